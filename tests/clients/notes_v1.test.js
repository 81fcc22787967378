// Notes through the last SDK with v1 note CRUD (pipedrive@31.2.1). The persons, organizations
// and deals they are attached to are made through the v2 SDK (pipedrive@33.7.0).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const { v2 } = require('pipedrive');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let persons;
let orgs;
let deals;
let notesV1;

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
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  persons = new v2.PersonsApi(config);
  orgs = new v2.OrganizationsApi(config);
  deals = new v2.DealsApi(config);
  const configV1 = keepStatus(new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` }));
  notesV1 = new v1.NotesApi(configV1);
});

after(async () => {
  await server.stop();
});

const addPerson = async (fields) => (await persons.addPerson({ AddPersonRequest: fields })).data;
const addOrg = async (fields) => (await orgs.addOrganization({ AddOrganizationRequest: fields })).data;
const addDeal = async (fields) => (await deals.addDeal({ AddDealRequest: fields })).data;
const addNote = async (fields) => (await notesV1.addNote({ AddNoteRequest: fields })).data;

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

test('addNote on a person sanitizes the content and answers v1\'s note shape', async () => {
  const person = await addPerson({ name: 'Noted Nora' });
  const res = await notesV1.addNote({
    AddNoteRequest: { content: '<b>x</b><script>y</script>', person_id: person.id, pinned_to_person_flag: 1 },
  });
  assert.equal(res.success, true);
  const n = res.data;
  assert.equal(typeof n.id, 'number');
  assert.equal(n.content, '<b>x</b>');
  assert.equal(n.active_flag, true);
  assert.equal(n.person_id, person.id);
  assert.deepEqual(n.person, { name: 'Noted Nora' });
  assert.equal(n.org_id, null);
  assert.equal(n.organization, null);
  assert.equal(n.deal_id, null);
  assert.equal(n.deal, null);
  assert.equal(n.user_id, 1);
  assert.equal(n.user.email, 'admin@pipestack.example');
  assert.equal(n.user.name, 'Admin');
  assert.equal(n.user.is_you, true);
  assert.ok('icon_url' in n.user);
  assert.equal(n.pinned_to_person_flag, true);
  assert.equal(n.pinned_to_deal_flag, false);
  assert.equal(n.pinned_to_organization_flag, false);
  assert.match(n.add_time, TIME_V1);
  assert.match(n.update_time, TIME_V1);
});

test('addNote on a deal and its organization; getNote reads it back with both', async () => {
  const org = await addOrg({ name: 'Noted Org' });
  const deal = await addDeal({ title: 'Noted deal', org_id: org.id });
  const n = await addNote({
    content: '<p>Call them <i>after</i> <a href="https://example.com" onmouseover="x()">lunch</a></p>',
    deal_id: deal.id,
    org_id: org.id,
    pinned_to_deal_flag: 1,
  });
  assert.doesNotMatch(n.content, /onmouseover|x\(\)/);
  assert.ok(n.content.includes('<i>after</i>'), n.content);
  assert.ok(n.content.includes('lunch'), n.content);

  const got = await notesV1.getNote({ id: n.id });
  assert.equal(got.success, true);
  assert.equal(got.data.id, n.id);
  assert.equal(got.data.content, n.content);
  assert.equal(got.data.deal_id, deal.id);
  assert.deepEqual(got.data.deal, { title: 'Noted deal' });
  assert.equal(got.data.org_id, org.id);
  assert.deepEqual(got.data.organization, { name: 'Noted Org' });
  assert.equal(got.data.person_id, null);
  assert.equal(got.data.person, null);
  assert.equal(got.data.pinned_to_deal_flag, true);
  assert.equal(got.data.pinned_to_organization_flag, false);
  assert.equal(got.data.pinned_to_person_flag, false);
});

test('getNotes filters by person, deal and organization', async () => {
  const org = await addOrg({ name: 'Filtered Notes Org' });
  const person = await addPerson({ name: 'Filtered Fred', org_id: org.id });
  const deal = await addDeal({ title: 'Filtered notes deal', person_id: person.id });
  const onPerson = await addNote({ content: 'On Fred', person_id: person.id });
  const onDeal = await addNote({ content: 'On the deal', deal_id: deal.id });
  const onOrg = await addNote({ content: 'On the org', org_id: org.id });
  await addNote({ content: 'Elsewhere', person_id: (await addPerson({ name: 'Other Olga' })).id });

  const byPerson = await notesV1.getNotes({ person_id: person.id });
  assert.equal(byPerson.success, true);
  assert.deepEqual(byPerson.data.map((n) => n.id), [onPerson.id]);
  assert.equal(byPerson.data[0].person.name, 'Filtered Fred');
  const byDeal = await notesV1.getNotes({ deal_id: deal.id });
  assert.deepEqual(byDeal.data.map((n) => n.id), [onDeal.id]);
  assert.equal(byDeal.data[0].deal.title, 'Filtered notes deal');
  const byOrg = await notesV1.getNotes({ org_id: org.id });
  assert.deepEqual(byOrg.data.map((n) => n.id), [onOrg.id]);
  assert.equal(byOrg.data[0].organization.name, 'Filtered Notes Org');

  const all = await notesV1.getNotes({ limit: 500 });
  const ids = all.data.map((n) => n.id);
  assert.ok([onPerson.id, onDeal.id, onOrg.id].every((id) => ids.includes(id)));
});

test('getNotes pages with start/limit and sorts by content', async () => {
  const person = await addPerson({ name: 'Paged Paula' });
  for (const content of ['bravo', 'delta', 'alpha', 'charlie']) {
    await addNote({ content, person_id: person.id });
  }
  const desc = await notesV1.getNotes({ person_id: person.id, sort: 'content DESC' });
  assert.deepEqual(desc.data.map((n) => n.content), ['delta', 'charlie', 'bravo', 'alpha']);
  const asc = await notesV1.getNotes({ person_id: person.id, sort: 'content ASC' });
  assert.deepEqual(asc.data.map((n) => n.content), ['alpha', 'bravo', 'charlie', 'delta']);

  const first = await notesV1.getNotes({ person_id: person.id, sort: 'content DESC', start: 0, limit: 3 });
  assert.deepEqual(first.data.map((n) => n.content), ['delta', 'charlie', 'bravo']);
  assert.equal(first.additional_data.pagination.start, 0);
  assert.equal(first.additional_data.pagination.limit, 3);
  assert.equal(first.additional_data.pagination.more_items_in_collection, true);
  assert.equal(first.additional_data.pagination.next_start, 3);
  const rest = await notesV1.getNotes({ person_id: person.id, sort: 'content DESC', start: 3, limit: 3 });
  assert.deepEqual(rest.data.map((n) => n.content), ['alpha']);
  assert.equal(rest.additional_data.pagination.more_items_in_collection, false);
});

test('getNotes filters by pinned_to_person_flag', async () => {
  const person = await addPerson({ name: 'Pinned Pia' });
  const pinned = await addNote({ content: 'Pinned', person_id: person.id, pinned_to_person_flag: 1 });
  const loose = await addNote({ content: 'Not pinned', person_id: person.id, pinned_to_person_flag: 0 });
  const plain = await addNote({ content: 'No flag given', person_id: person.id });
  assert.equal(pinned.pinned_to_person_flag, true);
  assert.equal(loose.pinned_to_person_flag, false);
  assert.equal(plain.pinned_to_person_flag, false);

  const onlyPinned = await notesV1.getNotes({ person_id: person.id, pinned_to_person_flag: 1 });
  assert.deepEqual(onlyPinned.data.map((n) => n.id), [pinned.id]);
  const unpinned = await notesV1.getNotes({ person_id: person.id, pinned_to_person_flag: 0, sort: 'id ASC' });
  assert.deepEqual(unpinned.data.map((n) => n.id), [loose.id, plain.id]);
});

test('updateNote replaces the content (sanitized) and keeps the attachments', async () => {
  const person = await addPerson({ name: 'Updated Ulla' });
  const n = await addNote({ content: 'First draft', person_id: person.id, pinned_to_person_flag: 1 });
  const res = await notesV1.updateNote({ id: n.id, NoteRequest: { content: 'Final <u>text</u><script>bad()</script>' } });
  assert.equal(res.success, true);
  assert.equal(res.data.id, n.id);
  assert.equal(res.data.content, 'Final <u>text</u>');
  assert.equal(res.data.person_id, person.id);
  assert.deepEqual(res.data.person, { name: 'Updated Ulla' });
  assert.equal(res.data.pinned_to_person_flag, true);
  assert.equal(res.data.add_time, n.add_time);
  assert.match(res.data.update_time, TIME_V1);

  const got = await notesV1.getNote({ id: n.id });
  assert.equal(got.data.content, 'Final <u>text</u>');
  const listed = await notesV1.getNotes({ person_id: person.id });
  assert.deepEqual(listed.data.map((x) => x.content), ['Final <u>text</u>']);
});

test('deleteNote answers true; the note is then 404 and gone from lists', async () => {
  const person = await addPerson({ name: 'Deleted Dina' });
  const keep = await addNote({ content: 'Keep me', person_id: person.id });
  const gone = await addNote({ content: 'Delete me', person_id: person.id });
  const res = await notesV1.deleteNote({ id: gone.id });
  assert.equal(res.success, true);
  assert.equal(res.data, true);

  await rejectsWith(notesV1.getNote({ id: gone.id }), 404, /Note not found/);
  const listed = await notesV1.getNotes({ person_id: person.id });
  assert.deepEqual(listed.data.map((n) => n.id), [keep.id]);
  const all = await notesV1.getNotes({ limit: 500 });
  assert.ok(!all.data.some((n) => n.id === gone.id));
});

test('a note without content or without an attached item is 400; a missing note is 404', async () => {
  const person = await addPerson({ name: 'Invalid Ivo' });
  await rejectsWith(notesV1.addNote({ AddNoteRequest: { person_id: person.id } }), 400, /content/);
  await rejectsWith(notesV1.addNote({ AddNoteRequest: { content: '', person_id: person.id } }), 400, /content/);
  await rejectsWith(notesV1.addNote({ AddNoteRequest: { content: 'Floating' } }), 400, /deal_id|person_id|org_id/);
  await rejectsWith(notesV1.addNote({ AddNoteRequest: { content: 'Ghost', person_id: 987654 } }), 400, /person/);
  await rejectsWith(notesV1.getNote({ id: 987654 }), 404, /Note not found/);
  await rejectsWith(notesV1.updateNote({ id: 987654, NoteRequest: { content: 'x' } }), 404, /not found/i);
  await rejectsWith(notesV1.deleteNote({ id: 987654 }), 404, /not found/i);

  const listed = await notesV1.getNotes({ person_id: person.id });
  assert.deepEqual(listed.data, []);
});
