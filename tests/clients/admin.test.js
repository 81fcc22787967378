// The admin API for tests (`pipestack serve --admin-api`, routes under /_pipestack/), used the
// way an integration's own test suite would use it: every test starts from a reset company, drives
// pipestack through Pipedrive's official SDK (pipedrive@33.7.0, API v2), then reads the request
// journal, injects faults, pins the clock or saves and restores snapshots. The admin routes are not
// in the SDK: they are called with fetch and the same admin API token.
'use strict';
const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const { v2 } = require('pipedrive');
const { startServer } = require('./server');

let server;
let persons;

/// Calls the admin API and returns the `data` of its envelope; fails the test on an error answer.
async function admin(method, path, body) {
  const res = await fetch(`${server.base}/_pipestack${path}`, {
    method,
    headers: { 'x-api-token': server.token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = await res.json();
  assert.equal(envelope.success, true, `${method} /_pipestack${path}: ${res.status} ${JSON.stringify(envelope)}`);
  return envelope.data;
}

/// The SDK rejects with the response body alone; this keeps the HTTP status and the id of the
/// injected fault (header `x-pipestack-fault`) on that body, as non-enumerable properties.
function keepStatus(config) {
  config.baseOptions = {
    transformResponse: [
      ...axios.defaults.transformResponse,
      function keepErrorStatus(data, headers, status) {
        if (status >= 400 && data && typeof data === 'object') {
          Object.defineProperty(data, 'status', { value: status });
          Object.defineProperty(data, 'faultId', { value: Number(headers['x-pipestack-fault']) || null });
        }
        return data;
      },
    ],
  };
  return config;
}

before(async () => {
  server = await startServer(['--admin-api']);
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  persons = new v2.PersonsApi(keepStatus(config));
});

after(async () => {
  await server.stop();
});

// Every test starts from the company as it was at first start: no persons, an empty journal,
// no faults, real time.
beforeEach(async () => {
  await admin('POST', '/reset');
});

const addPerson = async (fields) => (await persons.addPerson({ AddPersonRequest: fields })).data;

test('the journal records what the SDK sent and what it got back', async () => {
  const sent = { name: 'Ada Lovelace', emails: [{ value: 'ada@example.com', primary: true }] };
  const ada = await addPerson(sent);

  const [entry, ...older] = await admin('GET', '/requests?method=POST&path=/api/v2/persons');
  assert.deepEqual(older, []);
  assert.equal(entry.method, 'POST');
  assert.equal(entry.path, '/api/v2/persons');
  assert.equal(entry.route, '/api/v2/persons');
  assert.deepEqual(entry.request_body, sent);
  assert.equal(entry.status, 200);
  assert.equal(entry.response_body.data.id, ada.id);
  assert.equal(entry.fault_id, null);

  // Reads are journaled too, with the route they matched.
  await persons.getPerson({ id: ada.id });
  const [read] = await admin('GET', '/requests?limit=1');
  assert.equal(read.method, 'GET');
  assert.equal(read.path, `/api/v2/persons/${ada.id}`);
  assert.equal(read.route, '/api/v2/persons/{id}');
  assert.equal(read.status, 200);
});

test('a person made in one test...', async () => {
  await addPerson({ name: 'Left Behind' });
  const list = await persons.getPersons({});
  assert.deepEqual(list.data.map((p) => p.name), ['Left Behind']);
});

test('...is gone in the next: each test starts empty', async () => {
  assert.deepEqual(await admin('GET', '/requests'), []);
  const list = await persons.getPersons({});
  assert.deepEqual(list.data, []);
});

test('an injected 503 fails one SDK call, then the next succeeds', async () => {
  const person = await addPerson({ name: 'Flaky Fetch' });
  const fault = await admin('POST', '/faults', {
    method: 'GET', path: '/api/v2/persons/{id}', status: 503, times: 1,
  });

  await assert.rejects(persons.getPerson({ id: person.id }), (err) => {
    assert.equal(err.status, 503);
    assert.equal(err.success, false);
    assert.equal(err.faultId, fault.id);
    return true;
  });
  const retried = await persons.getPerson({ id: person.id });
  assert.equal(retried.data.name, 'Flaky Fetch');

  // The journal shows both attempts, newest first; the fault is spent.
  const attempts = await admin('GET', '/requests?method=GET&path=/api/v2/persons/');
  assert.deepEqual(attempts.map((e) => [e.status, e.fault_id]), [[200, null], [503, fault.id]]);
  assert.deepEqual(await admin('GET', '/faults'), []);
});

test('a frozen clock sets add_time and update_time', async () => {
  await admin('PUT', '/clock', { time: '2020-01-02T03:04:05Z', frozen: true });

  const person = await addPerson({ name: 'Time Traveller' });
  assert.equal(person.add_time, '2020-01-02T03:04:05Z');
  assert.equal(person.update_time, '2020-01-02T03:04:05Z');

  const updated = await persons.updatePerson({ id: person.id, UpdatePersonRequest: { name: 'Still Then' } });
  assert.equal(updated.data.update_time, '2020-01-02T03:04:05Z');
});

test('an offset clock runs, a day behind', async () => {
  await admin('PUT', '/clock', { offset_seconds: -86400 });
  const person = await addPerson({ name: 'Yesterday' });
  const lag = Date.now() - Date.parse(person.add_time);
  assert.ok(Math.abs(lag - 86400e3) < 5e3, `add_time ${person.add_time} is not a day ago`);
});

test('a snapshot puts data back as it was, and outlives a reset', async () => {
  const kept = await addPerson({ name: 'Kept' });
  const saved = await admin('POST', '/snapshots', { name: 'one-person' });
  assert.equal(saved.name, 'one-person');

  await addPerson({ name: 'Dropped' });
  await persons.deletePerson({ id: kept.id });
  assert.deepEqual((await persons.getPersons({})).data.map((p) => p.name), ['Dropped']);

  await admin('POST', '/snapshots/one-person/restore');
  assert.deepEqual((await persons.getPersons({})).data.map((p) => p.name), ['Kept']);

  // Snapshots are not data: a reset keeps them, so a suite can seed once and restore per test.
  await admin('POST', '/reset');
  assert.deepEqual((await admin('GET', '/snapshots')).map((s) => s.name), ['one-person']);
  await admin('POST', '/snapshots/one-person/restore');
  assert.equal((await persons.getPerson({ id: kept.id })).data.name, 'Kept');
  await admin('DELETE', '/snapshots/one-person');
});
