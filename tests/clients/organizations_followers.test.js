// Organizations and followers through the official SDKs (v2 current, v1 legacy).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v2 } = require('pipedrive');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let orgs;
let persons;
let personsV1;
let orgsV1;

before(async () => {
  server = await startServer();
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  orgs = new v2.OrganizationsApi(config);
  persons = new v2.PersonsApi(config);
  const configV1 = new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` });
  personsV1 = new v1.PersonsApi(configV1);
  orgsV1 = new v1.OrganizationsApi(configV1);
});

after(async () => {
  await server.stop();
});

test('OrganizationsApi adds, reads, updates, lists, searches and deletes organizations', async () => {
  const created = await orgs.addOrganization({
    AddOrganizationRequest: { name: 'Bolt', address: { value: 'Vana-Lõuna 15, Tallinn', country: 'Estonia' }, visible_to: 3 },
  });
  const id = created.data.id;
  assert.equal(created.data.name, 'Bolt');
  assert.equal(created.data.address.country, 'Estonia');
  const updated = await orgs.updateOrganization({ id, UpdateOrganizationRequest: { name: 'Bolt Technology' } });
  assert.equal(updated.data.name, 'Bolt Technology');
  await persons.addPerson({ AddPersonRequest: { name: 'Markus', org_id: id } });
  const got = await orgs.getOrganization({ id, include_fields: 'people_count' });
  assert.equal(got.data.people_count, 1);
  const list = await orgs.getOrganizations({ limit: 100 });
  assert.ok(list.data.some((o) => o.id === id));
  const found = await orgs.searchOrganization({ term: 'tallinn', fields: 'address' });
  assert.equal(found.data.items[0].item.id, id);
  const legacy = await orgsV1.getOrganization({ id });
  assert.equal(legacy.data.people_count, 1);
  const deleted = await orgs.deleteOrganization({ id });
  assert.equal(deleted.data.id, id);
  const after = await orgs.getOrganization({ id });
  assert.equal(after.data.is_deleted, true);
});

test('person followers through v2 (user ids) and v1 (relationship ids)', async () => {
  const p = await persons.addPerson({ AddPersonRequest: { name: 'Followed Fiona' } });
  const id = p.data.id;
  const listed = await persons.getPersonFollowers({ id });
  assert.deepEqual(listed.data.map((f) => f.user_id), [1]);
  const log = await persons.getPersonFollowersChangelog({ id });
  assert.equal(log.data[0].action, 'added');
  await assert.rejects(persons.addPersonFollower({ id, AddDealFollowerRequest: { user_id: 1 } }), (err) => {
    assert.equal(err.success, false);
    assert.match(err.error, /already follows/);
    return true;
  });
  const removed = await persons.deletePersonFollower({ id, follower_id: 1 });
  assert.equal(removed.data.user_id, 1);
  const again = await personsV1.addPersonFollower({ id, AddPersonFollowerRequest: { user_id: 1 } });
  assert.equal(again.data.person_id, id);
  const legacyList = await personsV1.getPersonFollowers({ id });
  assert.equal(legacyList.data.length, 1);
  const gone = await personsV1.deletePersonFollower({ id, follower_id: again.data.id });
  assert.equal(gone.data.id, again.data.id);
  const count = await persons.getPerson({ id, include_fields: 'followers_count' });
  assert.equal(count.data.followers_count, 0);
});

test('organization followers through v2', async () => {
  const o = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Followed Org' } });
  const list = await orgs.getOrganizationFollowers({ id: o.data.id });
  assert.deepEqual(list.data.map((f) => f.user_id), [1]);
  await orgs.deleteOrganizationFollower({ id: o.data.id, follower_id: 1 });
  const added = await orgs.addOrganizationFollower({ id: o.data.id, AddDealFollowerRequest: { user_id: 1 } });
  assert.equal(added.data.user_id, 1);
});
