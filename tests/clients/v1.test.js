// Pipedrive's last SDK with v1 person CRUD (pipedrive@31.2.1) against pipestack.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let persons;
let orgs;

before(async () => {
  server = await startServer();
  const config = new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` });
  persons = new v1.PersonsApi(config);
  orgs = new v1.OrganizationsApi(config);
});

after(async () => {
  await server.stop();
});

test('addPerson: the seed request, answered as the seed documents', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Org Name' } });
  const res = await persons.addPerson({
    AddPersonRequest: {
      name: 'Will Smith',
      owner_id: 1,
      org_id: org.data.id,
      email: [{ value: '12345@email.com', primary: true, label: 'work' }],
      phone: [{ value: '12345', primary: true, label: 'work' }],
      label: 1,
      visible_to: '3',
      marketing_status: 'subscribed',
      add_time: '2017-10-18 13:23:07',
    },
  });
  assert.equal(res.success, true);
  const p = res.data;
  assert.equal(p.name, 'Will Smith');
  assert.equal(p.owner_id.id, 1);
  assert.equal(p.owner_id.value, 1);
  assert.equal(p.org_id.value, org.data.id);
  assert.equal(p.org_id.people_count, 1);
  assert.equal(p.primary_email, '12345@email.com');
  assert.equal(p.first_char, 'w');
  assert.equal(p.visible_to, '3');
  assert.equal(p.marketing_status, 'subscribed');
  assert.equal(p.label, 1);
  assert.deepEqual(p.label_ids, [1]);
  assert.equal(p.add_time, '2017-10-18 13:23:07');
  assert.equal(res.related_objects.user['1'].id, 1);
});

test('getPerson and getPersons read persons with related objects', async () => {
  const created = await persons.addPerson({ AddPersonRequest: { name: 'Listed Person' } });
  const got = await persons.getPerson({ id: created.data.id });
  assert.equal(got.data.name, 'Listed Person');
  const list = await persons.getPersons({ start: 0, limit: 500, sort: 'name ASC' });
  assert.ok(list.data.some((p) => p.id === created.data.id));
  assert.equal(list.additional_data.pagination.start, 0);
  assert.ok(list.related_objects.user['1']);
  const filtered = await persons.getPersons({ first_char: 'l' });
  assert.ok(filtered.data.every((p) => p.first_char === 'l'));
});

test('updatePerson changes only what is given', async () => {
  const created = await persons.addPerson({ AddPersonRequest: { name: 'Old Name', email: ['old@example.com'] } });
  const res = await persons.updatePerson({ id: created.data.id, UpdatePersonRequest: { name: 'New Name' } });
  assert.equal(res.data.name, 'New Name');
  assert.equal(res.data.primary_email, 'old@example.com');
});

test('searchPersons finds with start/limit paging', async () => {
  await persons.addPerson({ AddPersonRequest: { name: 'Searchable Sally' } });
  const res = await persons.searchPersons({ term: 'sally', fields: 'name', start: 0, limit: 10 });
  assert.equal(res.data.items[0].item.name, 'Searchable Sally');
  assert.equal(res.additional_data.pagination.more_items_in_collection, false);
});

test('mergePersons keeps merge_with_id and deletes the other', async () => {
  const a = await persons.addPerson({ AddPersonRequest: { name: 'Merge From', email: ['from@example.com'] } });
  const b = await persons.addPerson({ AddPersonRequest: { name: 'Merge Into', email: ['into@example.com'] } });
  const res = await persons.mergePersons({ id: a.data.id, MergePersonsRequest: { merge_with_id: b.data.id } });
  assert.equal(res.data.id, b.data.id);
  assert.equal(res.data.name, 'Merge Into');
  assert.equal(res.data.merge_what_id, a.data.id);
  assert.deepEqual(res.data.email.map((e) => e.value), ['into@example.com', 'from@example.com']);
  const gone = await persons.getPerson({ id: a.data.id });
  assert.equal(gone.data.active_flag, false);
});

test('deletePerson soft-deletes', async () => {
  const created = await persons.addPerson({ AddPersonRequest: { name: 'Delete Me V1' } });
  const res = await persons.deletePerson({ id: created.data.id });
  assert.equal(res.data.id, created.data.id);
  const got = await persons.getPerson({ id: created.data.id });
  assert.equal(got.data.active_flag, false);
});

test('a missing name rejects with 400 "Name must be given."', async () => {
  await assert.rejects(persons.addPerson({ AddPersonRequest: { email: ['x@example.com'] } }), (err) => {
    // The SDK rejects with the parsed error body: Pipedrive's envelope.
    assert.equal(err.success, false);
    assert.equal(err.error, 'Name must be given.');
    return true;
  });
});
