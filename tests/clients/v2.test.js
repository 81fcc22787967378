// Pipedrive's official SDK (pipedrive@33.7.0, API v2) against pipestack: every persons operation.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v2 } = require('pipedrive');
const { startServer } = require('./server');

let server;
let persons;

before(async () => {
  server = await startServer();
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  persons = new v2.PersonsApi(config);
});

after(async () => {
  await server.stop();
});

test('addPerson creates a person and returns it', async () => {
  const res = await persons.addPerson({
    AddPersonRequest: {
      name: 'Will Smith',
      emails: [{ value: 'will@example.com', primary: true, label: 'work' }],
      phones: [{ value: '+1 555 0100' }],
      visible_to: 3,
    },
  });
  assert.equal(res.success, true);
  assert.equal(res.data.name, 'Will Smith');
  assert.equal(res.data.first_name, 'Will');
  assert.equal(res.data.last_name, 'Smith');
  assert.deepEqual(res.data.emails, [{ value: 'will@example.com', primary: true, label: 'work' }]);
  assert.deepEqual(res.data.phones, [{ value: '+1 555 0100', primary: true, label: 'work' }]);
  assert.equal(res.data.visible_to, 3);
  assert.equal(res.data.is_deleted, false);
  assert.match(res.data.add_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('getPerson reads it back with include_fields', async () => {
  const created = await persons.addPerson({ AddPersonRequest: { name: 'Read Me' } });
  const res = await persons.getPerson({ id: created.data.id, include_fields: 'followers_count' });
  assert.equal(res.data.id, created.data.id);
  assert.equal(res.data.name, 'Read Me');
  assert.equal(res.data.followers_count, 1);
});

test('updatePerson changes given fields and clears nulls', async () => {
  const created = await persons.addPerson({
    AddPersonRequest: { name: 'Patch Me', phones: [{ value: '123' }] },
  });
  const res = await persons.updatePerson({
    id: created.data.id,
    UpdatePersonRequest: { name: 'Patched Person', phones: null },
  });
  assert.equal(res.data.name, 'Patched Person');
  assert.equal(res.data.last_name, 'Person');
  assert.deepEqual(res.data.phones, []);
});

test('getPersons pages with cursors through every person exactly once', async () => {
  for (let i = 0; i < 5; i++) {
    await persons.addPerson({ AddPersonRequest: { name: `Paged ${i}` } });
  }
  const seen = [];
  let cursor;
  do {
    const res = await persons.getPersons({ limit: 2, sort_by: 'id', sort_direction: 'asc', cursor });
    seen.push(...res.data.map((p) => p.id));
    cursor = res.additional_data.next_cursor || undefined;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length);
  const sorted = [...seen].sort((a, b) => a - b);
  assert.deepEqual(seen, sorted);
  assert.ok(seen.length >= 5);
});

test('getPersons filters by ids', async () => {
  const a = await persons.addPerson({ AddPersonRequest: { name: 'Filter A' } });
  const res = await persons.getPersons({ ids: String(a.data.id) });
  assert.deepEqual(res.data.map((p) => p.id), [a.data.id]);
});

test('searchPersons finds by email, exactly when asked', async () => {
  await persons.addPerson({ AddPersonRequest: { name: 'Exact One', emails: [{ value: 'exact@example.com' }] } });
  await persons.addPerson({ AddPersonRequest: { name: 'Not Exact', emails: [{ value: 'inexact@example.com' }] } });
  const loose = await persons.searchPersons({ term: 'exact@example.com', fields: 'email' });
  assert.equal(loose.data.items.length, 2);
  const exact = await persons.searchPersons({ term: 'exact@example.com', fields: 'email', exact_match: true });
  assert.equal(exact.data.items.length, 1);
  assert.equal(exact.data.items[0].item.name, 'Exact One');
  assert.equal(exact.data.items[0].item.type, 'person');
  assert.deepEqual(exact.data.items[0].item.emails, ['exact@example.com']);
});

test('deletePerson soft-deletes: gone from lists, readable with is_deleted', async () => {
  const created = await persons.addPerson({ AddPersonRequest: { name: 'Delete Me' } });
  const res = await persons.deletePerson({ id: created.data.id });
  assert.deepEqual(res.data, { id: created.data.id });
  const got = await persons.getPerson({ id: created.data.id });
  assert.equal(got.data.is_deleted, true);
  const list = await persons.getPersons({ ids: String(created.data.id) });
  assert.deepEqual(list.data, []);
});

test('errors reject with Pipedrive\'s envelope', async () => {
  await assert.rejects(
    persons.addPerson({ AddPersonRequest: { emails: [{ value: 'x@example.com' }] } }),
    (err) => {
      // The SDK rejects with the parsed error body: Pipedrive's envelope.
      assert.equal(err.success, false);
      assert.equal(err.error, 'Name must be given.');
      assert.equal(err.data, null);
      return true;
    },
  );
  await assert.rejects(persons.getPerson({ id: 987654 }), (err) => {
    assert.equal(err.success, false);
    assert.equal(err.error, 'Person not found');
    return true;
  });
});
