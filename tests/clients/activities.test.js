// Activities through Pipedrive's official SDK (pipedrive@33.7.0, API v2), their legacy reads and
// activity types through the last SDK with v1 activity CRUD (pipedrive@31.2.1), and the activity
// and note summary fields persons carry. pipestack serves v1 activity reads only: activities are
// written through the v2 SDK.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const { v2 } = require('pipedrive');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let activities;
let persons;
let orgs;
let deals;
let activitiesV1;
let activityTypesV1;
let personsV1;
let orgsV1;
let dealsV1;
let notesV1;

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const TIME_V1 = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

/// The SDKs reject with the response body alone; this keeps the HTTP status on that body as a
/// non-enumerable `status` so that tests can assert it.
function keepStatus(config) {
  config.baseOptions = {
    transformResponse: [
      ...axios.defaults.transformResponse,
      function keepErrorStatus(data, _headers, status) {
        if (status >= 400 && data && typeof data === 'object') {
          Object.defineProperty(data, 'status', { value: status });
        }
        return data;
      },
    ],
  };
  return config;
}

before(async () => {
  server = await startServer();
  const config = keepStatus(new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` }));
  activities = new v2.ActivitiesApi(config);
  persons = new v2.PersonsApi(config);
  orgs = new v2.OrganizationsApi(config);
  deals = new v2.DealsApi(config);
  const configV1 = keepStatus(new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` }));
  activitiesV1 = new v1.ActivitiesApi(configV1);
  activityTypesV1 = new v1.ActivityTypesApi(configV1);
  personsV1 = new v1.PersonsApi(configV1);
  orgsV1 = new v1.OrganizationsApi(configV1);
  dealsV1 = new v1.DealsApi(configV1);
  notesV1 = new v1.NotesApi(configV1);
});

after(async () => {
  await server.stop();
});

const addActivity = async (fields = {}) => (await activities.addActivity({ AddActivityRequest: fields })).data;
const addPerson = async (fields) => (await persons.addPerson({ AddPersonRequest: fields })).data;
const addOrg = async (fields) => (await orgs.addOrganization({ AddOrganizationRequest: fields })).data;
const addDeal = async (fields) => (await deals.addDeal({ AddDealRequest: fields })).data;

/// Asserts that `promise` rejects with Pipedrive's error envelope, the given HTTP status and an
/// error text matching `pattern`.
async function rejectsWith(promise, status, pattern) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.success, false, `rejected with ${JSON.stringify(err)}`);
    assert.equal(err.status, status, `HTTP status of ${JSON.stringify(err)}`);
    assert.match(err.error, pattern);
    assert.equal(err.data, null);
    return true;
  });
}

/// Every page of getActivities for `params`, following additional_data.next_cursor.
async function allPages(params) {
  const pages = [];
  let cursor;
  do {
    const res = await activities.getActivities({ ...params, ...(cursor ? { cursor } : {}) });
    pages.push(res.data.map((a) => a.id));
    cursor = res.additional_data && res.additional_data.next_cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

// ---- v2 ActivitiesApi ----------------------------------------------------------------------------

test('addActivity with no fields makes a "Call" of type call owned by the caller', async () => {
  const res = await activities.addActivity({ AddActivityRequest: {} });
  assert.equal(res.success, true);
  const a = res.data;
  assert.equal(typeof a.id, 'number');
  assert.equal(a.type, 'call');
  assert.equal(a.subject, 'Call');
  assert.equal(a.owner_id, 1);
  assert.equal(a.creator_user_id, 1);
  assert.equal(a.is_deleted, false);
  assert.match(a.add_time, TIME);
  assert.match(a.update_time, TIME);
  assert.equal(a.deal_id, null);
  assert.equal(a.person_id, null);
  assert.equal(a.org_id, null);
  assert.equal(a.due_date, null);
  assert.equal(a.due_time, null);
  assert.equal(a.duration, null);
  assert.equal(a.busy, null);
  assert.equal(a.done, false);
  assert.equal(a.marked_as_done_time, null);
  assert.equal(a.location, null);
  assert.deepEqual(a.participants, []);
  assert.equal(a.public_description, null);
  assert.equal(a.priority, null);
  assert.equal(a.note, null);

  const typed = await addActivity({ type: 'meeting' });
  assert.equal(typed.type, 'meeting');
  assert.equal(typed.subject, 'Meeting');
  const lunch = await addActivity({ type: 'lunch', subject: 'Team lunch' });
  assert.equal(lunch.type, 'lunch');
  assert.equal(lunch.subject, 'Team lunch');
});

test('addActivity stores every field; due_time HH:MM:SS comes back as HH:MM; the note is sanitized', async () => {
  const org = await addOrg({ name: 'Activity Org' });
  const person = await addPerson({ name: 'Activity Ann', org_id: org.id });
  const deal = await addDeal({ title: 'Activity deal', person_id: person.id, org_id: org.id });
  const a = await addActivity({
    subject: 'Kick-off meeting',
    type: 'meeting',
    owner_id: 1,
    deal_id: deal.id,
    person_id: person.id,
    org_id: org.id,
    due_date: '2031-03-04',
    due_time: '09:45:30',
    duration: '01:30',
    busy: true,
    done: false,
    location: { value: 'Narva mnt 5, Tallinn', country: 'Estonia', locality: 'Tallinn' },
    public_description: 'Agenda: scope and timeline',
    priority: 2,
    note: '<p>Bring <b>slides</b></p><script>alert(1)</script><a href="https://example.com" onclick="steal()">link</a>',
    attendees: [{ email: 'guest@example.com', name: 'Guest Gus' }],
  });
  assert.equal(a.subject, 'Kick-off meeting');
  assert.equal(a.type, 'meeting');
  assert.equal(a.owner_id, 1);
  assert.equal(a.deal_id, deal.id);
  assert.equal(a.person_id, person.id);
  assert.equal(a.org_id, org.id);
  assert.equal(a.due_date, '2031-03-04');
  assert.equal(a.due_time, '09:45');
  assert.equal(a.duration, '01:30');
  assert.equal(a.busy, true);
  assert.equal(a.done, false);
  assert.equal(a.marked_as_done_time, null);
  assert.equal(a.location.value, 'Narva mnt 5, Tallinn');
  assert.equal(a.location.country, 'Estonia');
  assert.equal(a.location.locality, 'Tallinn');
  assert.equal(a.public_description, 'Agenda: scope and timeline');
  assert.equal(a.priority, 2);
  assert.deepEqual(a.participants, [{ person_id: person.id, primary: true }]);
  assert.ok(a.note.includes('<b>slides</b>'), a.note);
  assert.ok(a.note.includes('link'), a.note);
  assert.doesNotMatch(a.note, /<script|alert\(1\)|onclick|steal/i);
  assert.equal(a.attendees.length, 1);
  assert.equal(a.attendees[0].email, 'guest@example.com');
  assert.equal(a.attendees[0].name, 'Guest Gus');
  assert.equal(a.attendees[0].is_organizer, false);

  const got = await activities.getActivity({ id: a.id });
  assert.equal(got.data.id, a.id);
  assert.equal(got.data.subject, 'Kick-off meeting');
  assert.equal(got.data.due_time, '09:45');
  assert.equal(got.data.note, a.note);
  assert.deepEqual(got.data.location, a.location);
  assert.equal(got.data.attendees, undefined, 'attendees only with include_fields=attendees');
  const withAttendees = await activities.getActivity({ id: a.id, include_fields: 'attendees' });
  assert.deepEqual(withAttendees.data.attendees, a.attendees);
});

test('person_id is the primary participant: alone it makes one, with participants it marks the primary', async () => {
  const ann = await addPerson({ name: 'Participant Ann' });
  const bob = await addPerson({ name: 'Participant Bob' });

  const alone = await addActivity({ subject: 'One person', person_id: ann.id });
  assert.equal(alone.person_id, ann.id);
  assert.deepEqual(alone.participants, [{ person_id: ann.id, primary: true }]);

  const many = await addActivity({
    subject: 'Two people',
    participants: [{ person_id: ann.id, primary: false }, { person_id: bob.id, primary: true }],
  });
  assert.equal(many.person_id, bob.id);
  const byPerson = Object.fromEntries(many.participants.map((p) => [p.person_id, p.primary]));
  assert.deepEqual(byPerson, { [ann.id]: false, [bob.id]: true });

  const got = await activities.getActivity({ id: many.id });
  assert.equal(got.data.person_id, bob.id);
  assert.equal(got.data.participants.length, 2);
});

test('updateActivity changes given fields, keeps absent ones, clears nulls; done sets marked_as_done_time', async () => {
  const person = await addPerson({ name: 'Update Uma' });
  const a = await addActivity({
    subject: 'Follow-up call',
    person_id: person.id,
    due_date: '2031-05-06',
    due_time: '14:00',
    duration: '00:30',
    location: { value: 'Somewhere 1' },
    priority: 1,
    public_description: 'Public text',
  });

  const renamed = await activities.updateActivity({ id: a.id, AddActivityRequest: { subject: 'Follow-up meeting', type: 'meeting' } });
  assert.equal(renamed.data.subject, 'Follow-up meeting');
  assert.equal(renamed.data.type, 'meeting');
  assert.equal(renamed.data.person_id, person.id);
  assert.equal(renamed.data.due_date, '2031-05-06');
  assert.equal(renamed.data.due_time, '14:00');
  assert.equal(renamed.data.duration, '00:30');
  assert.equal(renamed.data.location.value, 'Somewhere 1');
  assert.equal(renamed.data.priority, 1);
  assert.equal(renamed.data.public_description, 'Public text');

  const cleared = await activities.updateActivity({
    id: a.id,
    AddActivityRequest: { location: null, due_time: null, duration: null, public_description: null },
  });
  assert.equal(cleared.data.location, null);
  assert.equal(cleared.data.due_time, null);
  assert.equal(cleared.data.duration, null);
  assert.equal(cleared.data.public_description, null);
  assert.equal(cleared.data.due_date, '2031-05-06');
  assert.equal(cleared.data.subject, 'Follow-up meeting');

  const done = await activities.updateActivity({ id: a.id, AddActivityRequest: { done: true } });
  assert.equal(done.data.done, true);
  assert.match(done.data.marked_as_done_time, TIME);
  assert.match(done.data.update_time, TIME);

  const undone = await activities.updateActivity({ id: a.id, AddActivityRequest: { done: false, due_time: '08:15:00' } });
  assert.equal(undone.data.done, false);
  assert.equal(undone.data.marked_as_done_time, null);
  assert.equal(undone.data.due_time, '08:15');

  const got = await activities.getActivity({ id: a.id });
  assert.equal(got.data.subject, 'Follow-up meeting');
  assert.equal(got.data.done, false);
  assert.equal(got.data.location, null);
});

test('deleteActivity is soft: it answers the id, getActivity shows is_deleted, lists leave it out', async () => {
  const deal = await addDeal({ title: 'Deletion deal' });
  const keep = await addActivity({ subject: 'Kept', deal_id: deal.id });
  const gone = await addActivity({ subject: 'Gone', deal_id: deal.id });

  const deleted = await activities.deleteActivity({ id: gone.id });
  assert.equal(deleted.success, true);
  assert.deepEqual(deleted.data, { id: gone.id });

  const got = await activities.getActivity({ id: gone.id });
  assert.equal(got.data.id, gone.id);
  assert.equal(got.data.is_deleted, true);
  assert.equal(got.data.subject, 'Gone');

  const list = await activities.getActivities({ deal_id: deal.id });
  assert.deepEqual(list.data.map((a) => a.id), [keep.id]);
  const all = await activities.getActivities({ limit: 500 });
  assert.ok(!all.data.some((a) => a.id === gone.id));
  const byIds = await activities.getActivities({ ids: `${keep.id},${gone.id}` });
  assert.deepEqual(byIds.data.map((a) => a.id), [keep.id]);

  const v1list = await activitiesV1.getActivities({ user_id: 0, limit: 500 });
  assert.ok(!v1list.data.some((a) => a.id === gone.id));
});

test('getActivities pages with cursors', async () => {
  const deal = await addDeal({ title: 'Paging deal' });
  const made = [];
  for (let i = 0; i < 5; i++) {
    made.push((await addActivity({ subject: `Paged ${i}`, deal_id: deal.id })).id);
  }
  const first = await activities.getActivities({ deal_id: deal.id, limit: 2, sort_by: 'id', sort_direction: 'asc' });
  assert.equal(first.success, true);
  assert.deepEqual(first.data.map((a) => a.id), made.slice(0, 2));
  assert.equal(typeof first.additional_data.next_cursor, 'string');

  const pages = await allPages({ deal_id: deal.id, limit: 2, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(pages, [made.slice(0, 2), made.slice(2, 4), made.slice(4)]);

  const last = await activities.getActivities({ deal_id: deal.id, limit: 10 });
  assert.equal(last.data.length, 5);
  assert.ok(last.additional_data.next_cursor == null, 'no next_cursor on the last page');

  const desc = await activities.getActivities({ deal_id: deal.id, sort_by: 'id', sort_direction: 'desc' });
  assert.deepEqual(desc.data.map((a) => a.id), [...made].reverse());
});

test('getActivities filters by person (primary participant), organization, deal, owner, done and ids', async () => {
  const org = await addOrg({ name: 'Filter Org' });
  const ann = await addPerson({ name: 'Filter Ann', org_id: org.id });
  const bob = await addPerson({ name: 'Filter Bob' });
  const deal = await addDeal({ title: 'Filter deal' });
  const a1 = await addActivity({ subject: 'Ann primary', person_id: ann.id, org_id: org.id });
  const a2 = await addActivity({
    subject: 'Bob primary, Ann attends',
    participants: [{ person_id: bob.id, primary: true }, { person_id: ann.id, primary: false }],
    deal_id: deal.id,
    done: true,
  });
  const a3 = await addActivity({ subject: 'Ann done', person_id: ann.id, done: true, deal_id: deal.id });

  const annList = await activities.getActivities({ person_id: ann.id, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(annList.data.map((a) => a.id), [a1.id, a3.id]);
  const bobList = await activities.getActivities({ person_id: bob.id });
  assert.deepEqual(bobList.data.map((a) => a.id), [a2.id]);
  const orgList = await activities.getActivities({ org_id: org.id });
  assert.deepEqual(orgList.data.map((a) => a.id), [a1.id]);
  const dealList = await activities.getActivities({ deal_id: deal.id, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(dealList.data.map((a) => a.id), [a2.id, a3.id]);
  const annDone = await activities.getActivities({ person_id: ann.id, done: true });
  assert.deepEqual(annDone.data.map((a) => a.id), [a3.id]);
  const annUndone = await activities.getActivities({ person_id: ann.id, done: false });
  assert.deepEqual(annUndone.data.map((a) => a.id), [a1.id]);
  const byIds = await activities.getActivities({ ids: `${a3.id},${a1.id}`, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(byIds.data.map((a) => a.id), [a1.id, a3.id]);
  const mine = await activities.getActivities({ owner_id: 1, ids: `${a1.id},${a2.id}` });
  assert.equal(mine.data.length, 2);
  assert.ok(mine.data.every((a) => a.owner_id === 1));
  assert.ok(mine.data.every((a) => a.attendees === undefined));
  const withAttendees = await activities.getActivities({ ids: `${a1.id}`, include_fields: 'attendees' });
  assert.deepEqual(withAttendees.data[0].attendees, []);
});

test('getActivities sorts by due_date and filters by update time', async () => {
  const deal = await addDeal({ title: 'Sorting deal' });
  const late = await addActivity({ subject: 'Late', deal_id: deal.id, due_date: '2032-12-01' });
  const early = await addActivity({ subject: 'Early', deal_id: deal.id, due_date: '2032-01-01' });
  const middle = await addActivity({ subject: 'Middle', deal_id: deal.id, due_date: '2032-06-15' });

  const asc = await activities.getActivities({ deal_id: deal.id, sort_by: 'due_date', sort_direction: 'asc' });
  assert.deepEqual(asc.data.map((a) => a.id), [early.id, middle.id, late.id]);
  const desc = await activities.getActivities({ deal_id: deal.id, sort_by: 'due_date', sort_direction: 'desc' });
  assert.deepEqual(desc.data.map((a) => a.id), [late.id, middle.id, early.id]);

  const past = new Date(Date.now() - 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const future = new Date(Date.now() + 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const since = await activities.getActivities({ deal_id: deal.id, updated_since: past });
  assert.equal(since.data.length, 3);
  const none = await activities.getActivities({ deal_id: deal.id, updated_since: future });
  assert.deepEqual(none.data, []);
  const until = await activities.getActivities({ deal_id: deal.id, updated_until: future });
  assert.equal(until.data.length, 3);
  const beforeAll = await activities.getActivities({ deal_id: deal.id, updated_until: past });
  assert.deepEqual(beforeAll.data, []);
});

test('bad activity input is rejected with 400 and the offending field; a missing activity is 404', async () => {
  await rejectsWith(activities.addActivity({ AddActivityRequest: { subject: 'Fax it', type: 'fax' } }), 400, /type/);
  await rejectsWith(activities.addActivity({ AddActivityRequest: { due_date: '2031-13-45' } }), 400, /due_date/);
  await rejectsWith(activities.addActivity({ AddActivityRequest: { due_date: '2031-01-01', due_time: '25:61' } }), 400, /due_time/);
  await rejectsWith(activities.addActivity({ AddActivityRequest: { duration: 'an hour' } }), 400, /duration/);
  await rejectsWith(activities.addActivity({ AddActivityRequest: { person_id: 987654 } }), 400, /person_id/);
  await rejectsWith(activities.addActivity({ AddActivityRequest: { deal_id: 987654 } }), 400, /deal_id/);

  const a = await addActivity({ subject: 'Valid' });
  await rejectsWith(activities.updateActivity({ id: a.id, AddActivityRequest: { type: 'fax' } }), 400, /type/);
  const still = await activities.getActivity({ id: a.id });
  assert.equal(still.data.type, 'call');

  await rejectsWith(activities.getActivity({ id: 987654 }), 404, /Activity not found/);
  await rejectsWith(activities.deleteActivity({ id: 987654 }), 404, /not found/i);
});

// ---- v1 legacy reads -----------------------------------------------------------------------------

test('v1 getActivity reads a v2-made activity in v1\'s shape', async () => {
  const org = await addOrg({ name: 'Legacy Activity Org' });
  const person = await addPerson({ name: 'Legacy Lars', org_id: org.id });
  const deal = await addDeal({ title: 'Legacy activity deal', person_id: person.id, org_id: org.id });
  const a = await addActivity({
    subject: 'Legacy lunch',
    type: 'lunch',
    person_id: person.id,
    org_id: org.id,
    deal_id: deal.id,
    due_date: '2031-07-08',
    due_time: '12:30',
    duration: '01:00',
    busy: false,
    note: '<i>Vegetarian</i>',
  });

  const res = await activitiesV1.getActivity({ id: a.id });
  assert.equal(res.success, true);
  const v = res.data;
  assert.equal(v.id, a.id);
  assert.equal(v.subject, 'Legacy lunch');
  assert.equal(v.type, 'lunch');
  assert.equal(v.type_name, 'Lunch');
  assert.equal(v.user_id, 1);
  assert.equal(v.done, false);
  assert.equal(v.busy_flag, false);
  assert.equal(v.due_date, '2031-07-08');
  assert.equal(v.due_time, '12:30');
  assert.equal(v.duration, '01:00');
  assert.equal(v.person_id, person.id);
  assert.equal(v.person_name, 'Legacy Lars');
  assert.equal(v.org_id, org.id);
  assert.equal(v.org_name, 'Legacy Activity Org');
  assert.equal(v.deal_id, deal.id);
  assert.equal(v.deal_title, 'Legacy activity deal');
  assert.equal(v.note, '<i>Vegetarian</i>');
  assert.equal(v.active_flag, true);
  assert.match(v.add_time, TIME_V1);
  assert.equal(v.marked_as_done_time, '');
  assert.deepEqual(v.participants, [{ person_id: person.id, primary_flag: true }]);

  await activities.updateActivity({ id: a.id, AddActivityRequest: { done: true } });
  const done = await activitiesV1.getActivity({ id: a.id });
  assert.equal(done.data.done, true);
  assert.match(done.data.marked_as_done_time, TIME_V1);

  await rejectsWith(activitiesV1.getActivity({ id: 987654 }), 404, /Activity not found/);
});

test('v1 getActivities: the caller\'s by default, everyone\'s with user_id=0, with done, type and start/limit', async () => {
  const deal = await addDeal({ title: 'Legacy list deal' });
  const open = await addActivity({ subject: 'Legacy open task', type: 'task', deal_id: deal.id });
  const closed = await addActivity({ subject: 'Legacy done email', type: 'email', deal_id: deal.id, done: true });

  const mine = await activitiesV1.getActivities({ limit: 500 });
  assert.equal(mine.success, true);
  const mineIds = mine.data.map((a) => a.id);
  assert.ok(mineIds.includes(open.id) && mineIds.includes(closed.id));
  assert.ok(mine.data.every((a) => a.user_id === 1));
  const everyone = await activitiesV1.getActivities({ user_id: 0, limit: 500 });
  const everyoneIds = everyone.data.map((a) => a.id);
  assert.ok(everyoneIds.includes(open.id) && everyoneIds.includes(closed.id));

  const done = await activitiesV1.getActivities({ user_id: 0, done: 1, limit: 500 });
  assert.ok(done.data.some((a) => a.id === closed.id));
  assert.ok(done.data.every((a) => a.done === true));
  const undone = await activitiesV1.getActivities({ user_id: 0, done: 0, limit: 500 });
  assert.ok(undone.data.some((a) => a.id === open.id));
  assert.ok(undone.data.every((a) => a.done === false));
  const tasks = await activitiesV1.getActivities({ user_id: 0, type: 'task', limit: 500 });
  assert.ok(tasks.data.some((a) => a.id === open.id));
  assert.ok(tasks.data.every((a) => a.type === 'task'));

  const page = await activitiesV1.getActivities({ user_id: 0, start: 0, limit: 1 });
  assert.equal(page.data.length, 1);
  assert.equal(page.additional_data.pagination.start, 0);
  assert.equal(page.additional_data.pagination.limit, 1);
  assert.equal(page.additional_data.pagination.more_items_in_collection, true);
  assert.equal(page.additional_data.pagination.next_start, 1);
});

test('v1 person, organization and deal activities list the right activities', async () => {
  const org = await addOrg({ name: 'Associated Org' });
  const person = await addPerson({ name: 'Associated Ada', org_id: org.id });
  const deal = await addDeal({ title: 'Associated deal', person_id: person.id, org_id: org.id });
  const forPerson = await addActivity({ subject: 'Person call', person_id: person.id });
  const forOrg = await addActivity({ subject: 'Org meeting', type: 'meeting', org_id: org.id, done: true });
  const forDeal = await addActivity({ subject: 'Deal task', type: 'task', deal_id: deal.id });
  await addActivity({ subject: 'Unrelated' });

  const byPerson = await personsV1.getPersonActivities({ id: person.id });
  assert.equal(byPerson.success, true);
  assert.ok(byPerson.data.some((a) => a.id === forPerson.id && a.person_id === person.id && a.person_name === 'Associated Ada'));
  assert.ok(!byPerson.data.some((a) => a.subject === 'Unrelated'));

  const byOrg = await orgsV1.getOrganizationActivities({ id: org.id });
  assert.ok(byOrg.data.some((a) => a.id === forOrg.id && a.org_name === 'Associated Org'));
  assert.ok(!byOrg.data.some((a) => a.subject === 'Unrelated'));
  const orgDone = await orgsV1.getOrganizationActivities({ id: org.id, done: 1 });
  assert.ok(orgDone.data.some((a) => a.id === forOrg.id));
  assert.ok(orgDone.data.every((a) => a.done === true));
  const orgUndone = await orgsV1.getOrganizationActivities({ id: org.id, done: 0 });
  assert.ok(!orgUndone.data.some((a) => a.id === forOrg.id));

  const byDeal = await dealsV1.getDealActivities({ id: deal.id });
  assert.deepEqual(byDeal.data.map((a) => a.id), [forDeal.id]);
  assert.equal(byDeal.data[0].deal_title, 'Associated deal');
  assert.equal(byDeal.data[0].type_name, 'Task');
});

// ---- persons' summary fields ---------------------------------------------------------------------

/// A person with one open deal, one undone and one done activity and one note.
async function busyPerson(name) {
  const person = await addPerson({ name });
  await addDeal({ title: `${name}'s deal`, person_id: person.id });
  const undone = await addActivity({ subject: 'Upcoming', person_id: person.id, due_date: '2033-02-03', due_time: '11:20' });
  const done = await addActivity({ subject: 'Finished', person_id: person.id, due_date: '2030-09-10', done: true });
  await notesV1.addNote({ AddNoteRequest: { content: 'Summary note', person_id: person.id } });
  return { person, undone, done };
}

test('v1 getPerson counts activities and notes and names the next and last activity', async () => {
  const { person, undone, done } = await busyPerson('Summary Sam');
  const res = await personsV1.getPerson({ id: person.id });
  const p = res.data;
  assert.equal(p.activities_count, 2);
  assert.equal(p.done_activities_count, 1);
  assert.equal(p.undone_activities_count, 1);
  assert.equal(p.next_activity_id, undone.id);
  assert.equal(p.next_activity_date, '2033-02-03');
  assert.equal(p.next_activity_time, '11:20');
  assert.equal(p.last_activity_id, done.id);
  assert.equal(p.last_activity_date, '2030-09-10');
  assert.equal(p.notes_count, 1);
  assert.equal(p.open_deals_count, 1);

  await activities.updateActivity({ id: undone.id, AddActivityRequest: { done: true } });
  const after = await personsV1.getPerson({ id: person.id });
  assert.equal(after.data.done_activities_count, 2);
  assert.equal(after.data.undone_activities_count, 0);
  assert.equal(after.data.next_activity_id, null);
});

test('v2 getPerson include_fields shows the same activity and note summary', async () => {
  const { person, undone, done } = await busyPerson('Summary Sue');
  const res = await persons.getPerson({
    id: person.id,
    include_fields: 'activities_count,done_activities_count,undone_activities_count,next_activity_id,last_activity_id,notes_count,open_deals_count',
  });
  const p = res.data;
  assert.equal(p.activities_count, 2);
  assert.equal(p.done_activities_count, 1);
  assert.equal(p.undone_activities_count, 1);
  assert.equal(p.next_activity_id, undone.id);
  assert.equal(p.last_activity_id, done.id);
  assert.equal(p.notes_count, 1);
  assert.equal(p.open_deals_count, 1);

  const untimed = await addActivity({ subject: 'Sooner, no time', person_id: person.id, due_date: '2032-01-01' });
  const v1person = await personsV1.getPerson({ id: person.id });
  assert.equal(v1person.data.next_activity_id, untimed.id);
  assert.equal(v1person.data.next_activity_date, '2032-01-01');
  assert.equal(v1person.data.next_activity_time, null);
  assert.equal(v1person.data.activities_count, 3);
});

// ---- v1 ActivityTypesApi -------------------------------------------------------------------------

test('getActivityTypes lists the six default types in order', async () => {
  const res = await activityTypesV1.getActivityTypes();
  assert.equal(res.success, true);
  const defaults = res.data.filter((t) => t.is_custom_flag === false);
  assert.deepEqual(defaults.map((t) => t.key_string), ['call', 'meeting', 'task', 'deadline', 'email', 'lunch']);
  assert.deepEqual(defaults.map((t) => t.name), ['Call', 'Meeting', 'Task', 'Deadline', 'Email', 'Lunch']);
  assert.deepEqual(defaults.map((t) => t.order_nr), [1, 2, 3, 4, 5, 6]);
  assert.ok(defaults.every((t) => t.active_flag === true));
  assert.deepEqual(res.data.slice(0, 6).map((t) => t.key_string), defaults.map((t) => t.key_string));
});

test('addActivityType, updateActivityType and deleteActivityType; a deleted type takes no new activities', async () => {
  const added = await activityTypesV1.addActivityType({ AddActivityTypeRequest: { name: 'Video call', icon_key: 'camera', color: '#1a2b3c' } });
  assert.equal(added.success, true);
  const t = added.data;
  assert.equal(typeof t.id, 'number');
  assert.equal(t.name, 'Video call');
  assert.equal(t.key_string, 'video_call');
  assert.equal(t.icon_key, 'camera');
  assert.equal(t.color, '1A2B3C');
  assert.equal(t.is_custom_flag, true);
  assert.equal(t.active_flag, true);

  const listed = await activityTypesV1.getActivityTypes();
  assert.ok(listed.data.some((x) => x.id === t.id && x.key_string === 'video_call'));

  const a = await addActivity({ type: 'video_call' });
  assert.equal(a.type, 'video_call');
  assert.equal(a.subject, 'Video call');

  const updated = await activityTypesV1.updateActivityType({ id: t.id, UpdateActivityTypeRequest: { name: 'Zoom call', order_nr: 9 } });
  assert.equal(updated.data.id, t.id);
  assert.equal(updated.data.name, 'Zoom call');
  assert.equal(updated.data.order_nr, 9);
  assert.equal(updated.data.key_string, 'video_call');
  assert.equal(updated.data.color, '1A2B3C');
  const still = await activities.getActivity({ id: a.id });
  assert.equal(still.data.type, 'video_call');

  const deleted = await activityTypesV1.deleteActivityType({ id: t.id });
  assert.equal(deleted.data.id, t.id);
  assert.equal(deleted.data.active_flag, false);
  assert.equal(deleted.data.key_string, 'video_call');
  const relisted = await activityTypesV1.getActivityTypes();
  const listedDeleted = relisted.data.find((x) => x.id === t.id);
  assert.ok(!listedDeleted || listedDeleted.active_flag === false, 'a deleted type is gone or inactive');
  await rejectsWith(activities.addActivity({ AddActivityRequest: { type: 'video_call' } }), 400, /type/);
});

test('ActivityFieldsApi lists the activity fields, type with the active types as options; NoteFieldsApi the note fields', async () => {
  const fieldsApi = new v2.ActivityFieldsApi(keepStatus(new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` })));
  const list = await fieldsApi.getActivityFields({ limit: 100 });
  assert.equal(list.success, true);
  const codes = list.data.map((f) => f.field_code);
  for (const code of ['subject', 'type', 'due_date', 'due_time', 'done', 'note', 'participants']) {
    assert.ok(codes.includes(code), `${code} in ${codes}`);
  }
  const type = await fieldsApi.getActivityField({ field_code: 'type', include_fields: 'ui_visibility' });
  assert.ok(type.data.options.some((o) => o.id === 'call' && o.label === 'Call'));
  assert.equal(type.data.is_custom_field, false);
  assert.equal(type.data.ui_visibility.add_visible_flag, true);

  const noteFields = new v1.NoteFieldsApi(keepStatus(new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` })));
  const nf = await noteFields.getNoteFields();
  assert.equal(nf.success, true);
  assert.equal(nf.data[0].key, 'content');
  assert.ok(nf.data.some((f) => f.key === 'pinned_to_person_flag' && f.field_type === 'enum'));
});
