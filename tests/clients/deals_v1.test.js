// Deals' legacy reads, item search and deal and organization fields through Pipedrive's last SDK
// with v1 deal CRUD (pipedrive@31.2.1). pipestack serves v1 deal reads only: the deals are
// written through the v2 SDK (pipedrive@33.7.0).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v2 } = require('pipedrive');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let deals;
let persons;
let orgs;
let dealsV1;
let personsV1;
let orgsV1;
let searchV1;
let dealFieldsV1;
let orgFieldsV1;

const TIME_V1 = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

before(async () => {
  server = await startServer();
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  deals = new v2.DealsApi(config);
  persons = new v2.PersonsApi(config);
  orgs = new v2.OrganizationsApi(config);
  const configV1 = new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` });
  dealsV1 = new v1.DealsApi(configV1);
  personsV1 = new v1.PersonsApi(configV1);
  orgsV1 = new v1.OrganizationsApi(configV1);
  searchV1 = new v1.ItemSearchApi(configV1);
  dealFieldsV1 = new v1.DealFieldsApi(configV1);
  orgFieldsV1 = new v1.OrganizationFieldsApi(configV1);
});

after(async () => {
  await server.stop();
});

const addDeal = async (fields) => (await deals.addDeal({ AddDealRequest: fields })).data;

test('getDeal reads a v2-made deal in v1\'s shape, with related objects', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Legacy Org' } });
  const person = await persons.addPerson({
    AddPersonRequest: { name: 'Legacy Lena', org_id: org.data.id, emails: [{ value: 'lena@legacy.example', primary: true }] },
  });
  const d = await addDeal({ title: 'Legacy deal', value: 1234.5, currency: 'EUR', person_id: person.data.id, org_id: org.data.id });

  const res = await dealsV1.getDeal({ id: d.id });
  assert.equal(res.success, true);
  const deal = res.data;
  assert.equal(deal.id, d.id);
  assert.equal(deal.title, 'Legacy deal');
  assert.equal(deal.value, 1234.5);
  assert.equal(deal.currency, 'EUR');
  assert.equal(deal.status, 'open');
  assert.equal(deal.active, true);
  assert.equal(deal.deleted, false);
  assert.equal(deal.stage_id, d.stage_id);
  assert.equal(deal.pipeline_id, d.pipeline_id);
  assert.equal(deal.stage_order_nr, 1);
  assert.equal(deal.user_id.id, 1);
  assert.equal(deal.user_id.value, 1);
  assert.equal(deal.creator_user_id.value, 1);
  assert.equal(deal.person_id.value, person.data.id);
  assert.equal(deal.person_id.name, 'Legacy Lena');
  assert.equal(deal.person_name, 'Legacy Lena');
  assert.equal(deal.org_id.value, org.data.id);
  assert.equal(deal.org_id.name, 'Legacy Org');
  assert.equal(deal.org_name, 'Legacy Org');
  assert.equal(deal.owner_name, 'Admin');
  assert.equal(deal.visible_to, '3');
  assert.equal(deal.followers_count, 1);
  assert.equal(deal.won_time, null);
  assert.match(deal.add_time, TIME_V1);
  assert.equal(typeof deal.formatted_value, 'string');
  assert.match(deal.formatted_value, /1,234\.5/);

  const stage = res.related_objects.stage[String(d.stage_id)];
  assert.equal(stage.name, 'Qualified');
  assert.equal(stage.pipeline_id, d.pipeline_id);
  assert.equal(res.related_objects.pipeline[String(d.pipeline_id)].name, 'Pipeline');
  assert.equal(res.related_objects.person[String(person.data.id)].name, 'Legacy Lena');
  assert.equal(res.related_objects.organization[String(org.data.id)].name, 'Legacy Org');
  assert.equal(res.related_objects.user['1'].id, 1);
});

test('getDeal shows won and lost deals with v1 timestamps', async () => {
  const d = await addDeal({ title: 'Won legacy' });
  await deals.updateDeal({ id: d.id, UpdateDealRequest: { status: 'won' } });
  const won = await dealsV1.getDeal({ id: d.id });
  assert.equal(won.data.status, 'won');
  assert.equal(won.data.active, false);
  assert.match(won.data.won_time, TIME_V1);
  assert.equal(won.data.close_time, won.data.won_time);
  assert.equal(won.data.lost_time, null);

  const l = await addDeal({ title: 'Lost legacy' });
  await deals.updateDeal({ id: l.id, UpdateDealRequest: { status: 'lost', lost_reason: 'No budget' } });
  const lost = await dealsV1.getDeal({ id: l.id });
  assert.equal(lost.data.status, 'lost');
  assert.match(lost.data.lost_time, TIME_V1);
  assert.equal(lost.data.lost_reason, 'No budget');
});

test('getDeals lists with start/limit paging and filters by status, stage and user', async () => {
  const made = [];
  for (let i = 0; i < 3; i++) {
    made.push(await addDeal({ title: `Listed ${i}` }));
  }
  await deals.updateDeal({ id: made[2].id, UpdateDealRequest: { status: 'won' } });

  const all = await dealsV1.getDeals({ start: 0, limit: 500, sort: 'id ASC' });
  const ids = all.data.map((d) => d.id);
  assert.ok(made.every((d) => ids.includes(d.id)));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(all.additional_data.pagination.start, 0);
  assert.equal(all.additional_data.pagination.more_items_in_collection, false);
  assert.ok(all.related_objects.user['1']);

  const page = await dealsV1.getDeals({ start: 0, limit: 2, sort: 'id ASC' });
  assert.equal(page.data.length, 2);
  assert.equal(page.additional_data.pagination.more_items_in_collection, true);
  assert.equal(page.additional_data.pagination.next_start, 2);
  const next = await dealsV1.getDeals({ start: 2, limit: 2, sort: 'id ASC' });
  assert.deepEqual(next.data.map((d) => d.id), ids.slice(2, 4));

  const won = await dealsV1.getDeals({ status: 'won', limit: 500 });
  assert.ok(won.data.some((d) => d.id === made[2].id));
  assert.ok(won.data.every((d) => d.status === 'won'));
  const open = await dealsV1.getDeals({ status: 'open', limit: 500 });
  assert.ok(!open.data.some((d) => d.id === made[2].id));
  const byStage = await dealsV1.getDeals({ stage_id: made[0].stage_id, limit: 500 });
  assert.ok(byStage.data.every((d) => d.stage_id === made[0].stage_id));
  const mine = await dealsV1.getDeals({ owned_by_you: 1, limit: 500 });
  assert.ok(mine.data.every((d) => d.user_id.id === 1));
  const byUser = await dealsV1.getDeals({ user_id: 1, limit: 500 });
  assert.equal(byUser.data.length, mine.data.length);

  await deals.deleteDeal({ id: made[0].id });
  const afterDelete = await dealsV1.getDeals({ limit: 500 });
  assert.ok(!afterDelete.data.some((d) => d.id === made[0].id));
  const deleted = await dealsV1.getDeals({ status: 'deleted', limit: 500 });
  assert.ok(deleted.data.some((d) => d.id === made[0].id && d.deleted === true));
});

test('PersonsApi.getPersonDeals and getPerson\'s live deal counts', async () => {
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Dealing Dan' } });
  const id = person.data.id;
  const a = await addDeal({ title: 'Dan A', person_id: id });
  const b = await addDeal({ title: 'Dan B', person_id: id });
  const c = await addDeal({ title: 'Dan C', person_id: id });
  await addDeal({ title: 'Someone else' });
  await deals.updateDeal({ id: b.id, UpdateDealRequest: { status: 'won' } });
  await deals.updateDeal({ id: c.id, UpdateDealRequest: { status: 'lost' } });

  const list = await personsV1.getPersonDeals({ id, sort: 'id ASC' });
  assert.deepEqual(list.data.map((d) => d.title), ['Dan A', 'Dan B', 'Dan C']);
  assert.ok(list.data.every((d) => d.person_id.value === id));
  const open = await personsV1.getPersonDeals({ id, status: 'open' });
  assert.deepEqual(open.data.map((d) => d.id), [a.id]);
  const won = await personsV1.getPersonDeals({ id, status: 'won' });
  assert.deepEqual(won.data.map((d) => d.id), [b.id]);
  const paged = await personsV1.getPersonDeals({ id, start: 0, limit: 1, sort: 'id ASC' });
  assert.deepEqual(paged.data.map((d) => d.id), [a.id]);
  assert.equal(paged.additional_data.pagination.more_items_in_collection, true);

  const p = await personsV1.getPerson({ id });
  assert.equal(p.data.open_deals_count, 1);
  assert.equal(p.data.won_deals_count, 1);
  assert.equal(p.data.lost_deals_count, 1);
  assert.equal(p.data.closed_deals_count, 2);
});

test('OrganizationsApi.getOrganizationDeals: direct and (unless only_primary_association) via its persons', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Umbrella Org' } });
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Umbrella Uma', org_id: org.data.id } });
  const direct = await addDeal({ title: 'Direct deal', org_id: org.data.id });
  const viaPerson = await addDeal({ title: 'Via person deal', person_id: person.data.id });
  const won = await addDeal({ title: 'Won direct deal', org_id: org.data.id });
  await deals.updateDeal({ id: won.id, UpdateDealRequest: { status: 'won' } });

  const all = await orgsV1.getOrganizationDeals({ id: org.data.id, sort: 'id ASC' });
  assert.deepEqual(all.data.map((d) => d.id), [direct.id, viaPerson.id, won.id]);
  const primary = await orgsV1.getOrganizationDeals({ id: org.data.id, only_primary_association: 1, sort: 'id ASC' });
  assert.deepEqual(primary.data.map((d) => d.id), [direct.id, won.id]);
  const open = await orgsV1.getOrganizationDeals({ id: org.data.id, status: 'open', only_primary_association: 1 });
  assert.deepEqual(open.data.map((d) => d.id), [direct.id]);
  assert.equal(open.data[0].org_id.value, org.data.id);

  const o = await orgsV1.getOrganization({ id: org.data.id });
  assert.equal(o.data.open_deals_count, 1);
  assert.equal(o.data.won_deals_count, 1);
});

test('v1 deal followers read and change the followers v2 writes', async () => {
  const d = await addDeal({ title: 'Followed legacy' });
  const list = await dealsV1.getDealFollowers({ id: d.id });
  assert.deepEqual(list.data.map((f) => f.user_id), [1]);
  const removed = await dealsV1.deleteDealFollower({ id: d.id, follower_id: list.data[0].id });
  assert.equal(removed.data.id, list.data[0].id);
  const modern = await deals.getDealFollowers({ id: d.id });
  assert.deepEqual(modern.data, []);
  const added = await dealsV1.addDealFollower({ id: d.id, AddDealFollowerRequest: { user_id: 1 } });
  assert.equal(added.data.user_id, 1);
  assert.equal(added.data.deal_id, d.id);
});

test('ItemSearchApi.searchItem finds persons, organizations and deals with start/limit paging', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Narwhal Networks' } });
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Ned Narwhal', org_id: org.data.id } });
  const deal = await addDeal({ title: 'Narwhal upgrade', person_id: person.data.id, org_id: org.data.id });

  const all = await searchV1.searchItem({ term: 'narwhal' });
  assert.equal(all.success, true);
  const keys = all.data.items.map((i) => `${i.item.type}:${i.item.id}`).sort();
  assert.deepEqual(keys, [`deal:${deal.id}`, `organization:${org.data.id}`, `person:${person.data.id}`].sort());
  const dealHit = all.data.items.find((i) => i.item.type === 'deal').item;
  assert.equal(dealHit.title, 'Narwhal upgrade');
  assert.equal(dealHit.stage.name, 'Qualified');
  assert.equal(dealHit.person.id, person.data.id);
  assert.equal(dealHit.organization.id, org.data.id);

  const onlyDeals = await searchV1.searchItem({ term: 'narwhal', item_types: 'deal' });
  assert.deepEqual(onlyDeals.data.items.map((i) => i.item.id), [deal.id]);
  const exact = await searchV1.searchItem({ term: 'ned narwhal', exact_match: true });
  assert.deepEqual(exact.data.items.map((i) => [i.item.type, i.item.id]), [['person', person.data.id]]);

  const first = await searchV1.searchItem({ term: 'narwhal', start: 0, limit: 2 });
  assert.equal(first.data.items.length, 2);
  assert.equal(first.additional_data.pagination.more_items_in_collection, true);
  assert.equal(first.additional_data.pagination.next_start, 2);
  const rest = await searchV1.searchItem({ term: 'narwhal', start: 2, limit: 2 });
  assert.equal(rest.data.items.length, 1);
  assert.equal(rest.additional_data.pagination.more_items_in_collection, false);
  const paged = [...first.data.items, ...rest.data.items].map((i) => `${i.item.type}:${i.item.id}`).sort();
  assert.deepEqual(paged, keys);

  const related = await searchV1.searchItem({ term: 'narwhal networks', item_types: 'organization', search_for_related_items: true });
  assert.deepEqual(related.data.items.map((i) => i.item.id), [org.data.id]);
  const relatedKeys = (related.data.related_items || []).map((i) => `${i.item.type}:${i.item.id}`).sort();
  assert.deepEqual(relatedKeys, [`deal:${deal.id}`, `person:${person.data.id}`]);
});

test('ItemSearchApi.searchItemByField: distinct values, or item ids when asked', async () => {
  const a = await addDeal({ title: 'Ocelot pilot' });
  const b = await addDeal({ title: 'Ocelot pilot' });
  await addDeal({ title: 'Ocelot rollout' });

  const values = await searchV1.searchItemByField({ term: 'Ocelot', field_type: 'dealField', field_key: 'title' });
  assert.deepEqual(values.data.map((v) => v.title).sort(), ['Ocelot pilot', 'Ocelot rollout']);
  assert.ok(values.data.every((v) => v.id === undefined));
  const withIds = await searchV1.searchItemByField({
    term: 'Ocelot pilot', field_type: 'dealField', field_key: 'title', exact_match: true, return_item_ids: true,
  });
  assert.deepEqual(withIds.data.map((v) => v.id).sort((x, y) => x - y), [a.id, b.id]);
  assert.ok(withIds.data.every((v) => v.title === 'Ocelot pilot'));
  const caseSensitive = await searchV1.searchItemByField({
    term: 'ocelot pilot', field_type: 'dealField', field_key: 'title', exact_match: true, return_item_ids: true,
  });
  assert.deepEqual(caseSensitive.data, []);

  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Ocelot Outfitters' } });
  const orgHit = await searchV1.searchItemByField({
    term: 'Ocelot', field_type: 'organizationField', field_key: 'name', return_item_ids: true,
  });
  assert.deepEqual(orgHit.data, [{ id: org.data.id, name: 'Ocelot Outfitters' }]);
});

test('OrganizationsApi.searchOrganization finds by name and address, exactly when asked', async () => {
  const a = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Pelican Partners', address: { value: 'Harbour Road 1, Tartu' } } });
  const b = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Pelican' } });
  const byName = await orgsV1.searchOrganization({ term: 'pelican', fields: 'name' });
  assert.deepEqual(byName.data.items.map((i) => i.item.id).sort((x, y) => x - y), [a.data.id, b.data.id]);
  assert.ok(byName.data.items.every((i) => i.item.type === 'organization'));
  const exact = await orgsV1.searchOrganization({ term: 'pelican', exact_match: true });
  assert.deepEqual(exact.data.items.map((i) => i.item.id), [b.data.id]);
  assert.equal(exact.data.items[0].item.name, 'Pelican');
  const byAddress = await orgsV1.searchOrganization({ term: 'tartu', fields: 'address' });
  assert.deepEqual(byAddress.data.items.map((i) => i.item.id), [a.data.id]);
  assert.equal(byAddress.data.items[0].item.address, 'Harbour Road 1, Tartu');
  const paged = await orgsV1.searchOrganization({ term: 'pelican', start: 0, limit: 1 });
  assert.equal(paged.data.items.length, 1);
  assert.equal(paged.additional_data.pagination.more_items_in_collection, true);
});

test('DealFieldsApi.getDealFields and OrganizationFieldsApi.getOrganizationFields list system and custom fields', async () => {
  const dealList = await dealFieldsV1.getDealFields({ start: 0, limit: 500 });
  const dealKeys = dealList.data.map((f) => f.key);
  for (const key of ['title', 'value', 'stage_id', 'pipeline_id', 'status', 'person_id', 'org_id', 'won_time']) {
    assert.ok(dealKeys.includes(key), `dealFields lists ${key}`);
  }
  const title = dealList.data.find((f) => f.key === 'title');
  assert.equal(title.name, 'Title');
  assert.equal(title.field_type, 'varchar');
  assert.equal(title.edit_flag, false);
  assert.equal(dealList.data.find((f) => f.key === 'value').field_type, 'monetary');
  assert.equal(dealList.data.find((f) => f.key === 'person_id').field_type, 'people');
  const dealPage = await dealFieldsV1.getDealFields({ start: 0, limit: 3 });
  assert.equal(dealPage.data.length, 3);
  assert.equal(dealPage.additional_data.pagination.more_items_in_collection, true);
  assert.equal(dealPage.additional_data.pagination.next_start, 3);

  const custom = await dealFieldsV1.addDealField({ CreateFieldRequest: { name: 'Region', field_type: 'varchar' } });
  const key = custom.data.key;
  assert.match(key, /^[0-9a-f]{40}$/);
  const d = await addDeal({ title: 'Regional deal', custom_fields: { [key]: 'Baltics' } });
  const legacy = await dealsV1.getDeal({ id: d.id });
  assert.equal(legacy.data[key], 'Baltics');
  const relisted = await dealFieldsV1.getDealFields({ start: 0, limit: 500 });
  assert.ok(relisted.data.some((f) => f.key === key && f.name === 'Region' && f.edit_flag === true));

  const orgList = await orgFieldsV1.getOrganizationFields({ start: 0, limit: 500 });
  const orgKeys = orgList.data.map((f) => f.key);
  for (const k of ['name', 'address', 'owner_id', 'people_count']) {
    assert.ok(orgKeys.includes(k), `organizationFields lists ${k}`);
  }
  const name = orgList.data.find((f) => f.key === 'name');
  assert.equal(name.name, 'Name');
  assert.equal(name.mandatory_flag, true);
});

test('v1 reads of a missing deal reject with Pipedrive\'s envelope', async () => {
  await assert.rejects(dealsV1.getDeal({ id: 987654 }), (err) => {
    assert.equal(err.success, false);
    assert.equal(err.error, 'Deal not found');
    return true;
  });
  await assert.rejects(personsV1.getPersonDeals({ id: 987654 }), (err) => {
    assert.equal(err.success, false);
    return true;
  });
});
