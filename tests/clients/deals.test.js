// Deals, pipelines, stages, deal and organization fields, and item search through Pipedrive's
// official SDK (pipedrive@33.7.0, API v2).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v2 } = require('pipedrive');
const { startServer } = require('./server');

let server;
let deals;
let pipelines;
let stages;
let persons;
let orgs;
let search;
let dealFields;
let orgFields;

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

before(async () => {
  server = await startServer();
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  deals = new v2.DealsApi(config);
  pipelines = new v2.PipelinesApi(config);
  stages = new v2.StagesApi(config);
  persons = new v2.PersonsApi(config);
  orgs = new v2.OrganizationsApi(config);
  search = new v2.ItemSearchApi(config);
  dealFields = new v2.DealFieldsApi(config);
  orgFields = new v2.OrganizationFieldsApi(config);
});

after(async () => {
  await server.stop();
});

/// The default pipeline's stages, by name.
async function defaultStages() {
  const list = await pipelines.getPipelines({ sort_by: 'id', sort_direction: 'asc' });
  const pipeline = list.data.find((p) => p.name === 'Pipeline');
  const res = await stages.getStages({ pipeline_id: pipeline.id, sort_by: 'order_nr', sort_direction: 'asc' });
  return { pipeline, byName: Object.fromEntries(res.data.map((s) => [s.name, s])) };
}

test('a new company has the default pipeline with its five stages', async () => {
  const list = await pipelines.getPipelines({});
  assert.equal(list.success, true);
  const pipeline = list.data.find((p) => p.name === 'Pipeline');
  assert.ok(pipeline, 'the default pipeline "Pipeline" exists');
  assert.equal(pipeline.is_deleted, false);
  const res = await stages.getStages({ pipeline_id: pipeline.id, sort_by: 'order_nr', sort_direction: 'asc' });
  assert.deepEqual(
    res.data.map((s) => [s.name, s.order_nr, s.pipeline_id]),
    [
      ['Qualified', 1, pipeline.id],
      ['Contact Made', 2, pipeline.id],
      ['Demo Scheduled', 3, pipeline.id],
      ['Proposal Made', 4, pipeline.id],
      ['Negotiations Started', 5, pipeline.id],
    ],
  );
});

test('addDeal without a stage lands in the first stage of the default pipeline; getDeal reads it back', async () => {
  const { pipeline, byName } = await defaultStages();
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Deal Dora' } });
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Dealmakers Ltd' } });
  const created = await deals.addDeal({
    AddDealRequest: {
      title: 'Annual licence',
      value: 1500,
      currency: 'EUR',
      person_id: person.data.id,
      org_id: org.data.id,
      expected_close_date: '2030-06-30',
      visible_to: 3,
    },
  });
  assert.equal(created.success, true);
  const d = created.data;
  assert.equal(typeof d.id, 'number');
  assert.equal(d.title, 'Annual licence');
  assert.equal(d.value, 1500);
  assert.equal(d.currency, 'EUR');
  assert.equal(d.person_id, person.data.id);
  assert.equal(d.org_id, org.data.id);
  assert.equal(d.pipeline_id, pipeline.id);
  assert.equal(d.stage_id, byName.Qualified.id);
  assert.equal(d.status, 'open');
  assert.equal(d.owner_id, 1);
  assert.equal(d.creator_user_id, 1);
  assert.equal(d.expected_close_date, '2030-06-30');
  assert.equal(d.is_deleted, false);
  assert.equal(d.is_archived, false);
  assert.equal(d.won_time, null);
  assert.equal(d.lost_time, null);
  assert.equal(d.close_time, null);
  assert.match(d.add_time, TIME);
  assert.deepEqual(d.custom_fields, {});

  const got = await deals.getDeal({ id: d.id, include_fields: 'followers_count' });
  assert.equal(got.data.id, d.id);
  assert.equal(got.data.title, 'Annual licence');
  assert.equal(got.data.stage_id, byName.Qualified.id);
  assert.equal(got.data.followers_count, 1);
});

test('addDeal into a named stage takes that stage\'s pipeline', async () => {
  const { pipeline, byName } = await defaultStages();
  const created = await deals.addDeal({ AddDealRequest: { title: 'Demo deal', stage_id: byName['Demo Scheduled'].id } });
  assert.equal(created.data.stage_id, byName['Demo Scheduled'].id);
  assert.equal(created.data.pipeline_id, pipeline.id);
});

test('updateDeal: won sets won_time and close_time, lost sets lost_time, reopening clears them', async () => {
  const { byName } = await defaultStages();
  const created = await deals.addDeal({ AddDealRequest: { title: 'Status deal', value: 10 } });
  const id = created.data.id;

  const moved = await deals.updateDeal({ id, UpdateDealRequest: { stage_id: byName['Proposal Made'].id, value: 250 } });
  assert.equal(moved.data.stage_id, byName['Proposal Made'].id);
  assert.equal(moved.data.value, 250);
  assert.equal(moved.data.title, 'Status deal');

  const won = await deals.updateDeal({ id, UpdateDealRequest: { status: 'won' } });
  assert.equal(won.data.status, 'won');
  assert.match(won.data.won_time, TIME);
  assert.equal(won.data.close_time, won.data.won_time);
  assert.equal(won.data.lost_time, null);

  const lost = await deals.updateDeal({ id, UpdateDealRequest: { status: 'lost', lost_reason: 'Too expensive' } });
  assert.equal(lost.data.status, 'lost');
  assert.match(lost.data.lost_time, TIME);
  assert.equal(lost.data.close_time, lost.data.lost_time);
  assert.equal(lost.data.won_time, null);
  assert.equal(lost.data.lost_reason, 'Too expensive');

  const reopened = await deals.updateDeal({ id, UpdateDealRequest: { status: 'open' } });
  assert.equal(reopened.data.status, 'open');
  assert.equal(reopened.data.won_time, null);
  assert.equal(reopened.data.lost_time, null);
  assert.equal(reopened.data.close_time, null);

  const renamed = await deals.updateDeal({ id, UpdateDealRequest: { title: 'Renamed status deal' } });
  assert.equal(renamed.data.title, 'Renamed status deal');
  assert.equal(renamed.data.stage_id, byName['Proposal Made'].id);
  assert.equal(renamed.data.value, 250);
});

test('a pipeline_id without a stage_id means the first stage of that pipeline, on add and on update', async () => {
  const { byName } = await defaultStages();
  const pipeline = await pipelines.addPipeline({ AddPipelineRequest: { name: 'Renewals' } });
  const first = await stages.addStage({ AddStageRequest: { name: 'Due', pipeline_id: pipeline.data.id } });
  await stages.addStage({ AddStageRequest: { name: 'Quoted', pipeline_id: pipeline.data.id } });
  const added = await deals.addDeal({ AddDealRequest: { title: 'Renewal 2031', pipeline_id: pipeline.data.id } });
  assert.equal(added.data.pipeline_id, pipeline.data.id);
  assert.equal(added.data.stage_id, first.data.id);

  const other = await deals.addDeal({ AddDealRequest: { title: 'Moves pipelines' } });
  assert.equal(other.data.stage_id, byName.Qualified.id);
  assert.equal(other.data.stage_change_time, null);
  const moved = await deals.updateDeal({ id: other.data.id, UpdateDealRequest: { pipeline_id: pipeline.data.id } });
  assert.equal(moved.data.pipeline_id, pipeline.data.id);
  assert.equal(moved.data.stage_id, first.data.id);
  assert.match(moved.data.stage_change_time, TIME);
  const back = await deals.updateDeal({ id: other.data.id, UpdateDealRequest: { stage_id: byName['Contact Made'].id } });
  assert.equal(back.data.pipeline_id, byName['Contact Made'].pipeline_id);
  assert.equal(back.data.stage_id, byName['Contact Made'].id);
});

test('updateDeal clears person_id and org_id with null', async () => {
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Detached Dina' } });
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Detached Org' } });
  const created = await deals.addDeal({ AddDealRequest: { title: 'Detach me', person_id: person.data.id, org_id: org.data.id } });
  const res = await deals.updateDeal({ id: created.data.id, UpdateDealRequest: { person_id: null, org_id: null } });
  assert.equal(res.data.person_id, null);
  assert.equal(res.data.org_id, null);
  assert.equal(res.data.title, 'Detach me');
});

test('getDeals filters by person, organization, stage, pipeline and status', async () => {
  const { pipeline, byName } = await defaultStages();
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Filter Fred' } });
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Filter Org' } });
  const a = await deals.addDeal({ AddDealRequest: { title: 'Filter A', person_id: person.data.id } });
  const b = await deals.addDeal({
    AddDealRequest: { title: 'Filter B', person_id: person.data.id, org_id: org.data.id, stage_id: byName['Contact Made'].id },
  });
  const c = await deals.addDeal({ AddDealRequest: { title: 'Filter C', org_id: org.data.id } });
  await deals.updateDeal({ id: c.data.id, UpdateDealRequest: { status: 'won' } });

  const byPerson = await deals.getDeals({ person_id: person.data.id, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(byPerson.data.map((d) => d.id), [a.data.id, b.data.id]);
  const byOrg = await deals.getDeals({ org_id: org.data.id, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(byOrg.data.map((d) => d.id), [b.data.id, c.data.id]);
  const byStage = await deals.getDeals({ stage_id: byName['Contact Made'].id });
  assert.ok(byStage.data.some((d) => d.id === b.data.id));
  assert.ok(byStage.data.every((d) => d.stage_id === byName['Contact Made'].id));
  const byPipeline = await deals.getDeals({ pipeline_id: pipeline.id, limit: 500 });
  assert.ok([a, b, c].every((x) => byPipeline.data.some((d) => d.id === x.data.id)));
  const won = await deals.getDeals({ org_id: org.data.id, status: 'won' });
  assert.deepEqual(won.data.map((d) => d.id), [c.data.id]);
  const open = await deals.getDeals({ org_id: org.data.id, status: 'open' });
  assert.deepEqual(open.data.map((d) => d.id), [b.data.id]);
  const ids = await deals.getDeals({ ids: `${a.data.id},${c.data.id}`, sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(ids.data.map((d) => d.id), [a.data.id, c.data.id]);
});

test('getDeals pages with cursors through every deal exactly once', async () => {
  for (let i = 0; i < 5; i++) {
    await deals.addDeal({ AddDealRequest: { title: `Paged deal ${i}` } });
  }
  const all = await deals.getDeals({ limit: 500, sort_by: 'id', sort_direction: 'asc' });
  const seen = [];
  let cursor;
  let pages = 0;
  do {
    const res = await deals.getDeals({ limit: 2, sort_by: 'id', sort_direction: 'asc', cursor });
    assert.ok(res.data.length <= 2);
    seen.push(...res.data.map((d) => d.id));
    cursor = res.additional_data.next_cursor || undefined;
    pages += 1;
  } while (cursor);
  assert.deepEqual(seen, all.data.map((d) => d.id));
  assert.equal(pages, Math.ceil(all.data.length / 2));
  assert.ok(seen.length >= 5);
  const desc = await deals.getDeals({ limit: 500, sort_by: 'id', sort_direction: 'desc' });
  assert.deepEqual(desc.data.map((d) => d.id), [...seen].reverse());
});

test('deleteDeal soft-deletes: gone from lists, readable with is_deleted, listed with status=deleted', async () => {
  const created = await deals.addDeal({ AddDealRequest: { title: 'Doomed deal' } });
  const id = created.data.id;
  const res = await deals.deleteDeal({ id });
  assert.deepEqual(res.data, { id });
  const got = await deals.getDeal({ id });
  assert.equal(got.data.is_deleted, true);
  const list = await deals.getDeals({ ids: String(id) });
  assert.deepEqual(list.data, []);
  const deleted = await deals.getDeals({ status: 'deleted', limit: 500 });
  assert.ok(deleted.data.some((d) => d.id === id && d.is_deleted === true));
});

test('archived deals are listed by getArchivedDeals, not getDeals', async () => {
  const archived = await deals.addDeal({ AddDealRequest: { title: 'Archived deal', is_archived: true } });
  assert.equal(archived.data.is_archived, true);
  assert.match(archived.data.archive_time, TIME);
  const live = await deals.addDeal({ AddDealRequest: { title: 'Live deal' } });
  const later = await deals.addDeal({ AddDealRequest: { title: 'Archived later' } });
  const patched = await deals.updateDeal({ id: later.data.id, UpdateDealRequest: { is_archived: true } });
  assert.equal(patched.data.is_archived, true);

  const list = await deals.getArchivedDeals({ sort_by: 'id', sort_direction: 'asc', limit: 500 });
  const ids = list.data.map((d) => d.id);
  assert.ok(ids.includes(archived.data.id));
  assert.ok(ids.includes(later.data.id));
  assert.ok(!ids.includes(live.data.id));
  assert.ok(list.data.every((d) => d.is_archived === true));
  const current = await deals.getDeals({ limit: 500 });
  assert.ok(current.data.some((d) => d.id === live.data.id));
  assert.ok(!current.data.some((d) => d.id === archived.data.id));
});

test('searchDeals finds by title, filters by person, organization and status, and matches exactly when asked', async () => {
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Searcher Sam' } });
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Searchable Org' } });
  const a = await deals.addDeal({ AddDealRequest: { title: 'Zebra expansion', person_id: person.data.id, value: 42, currency: 'USD' } });
  const b = await deals.addDeal({ AddDealRequest: { title: 'Zebra', org_id: org.data.id } });
  const c = await deals.addDeal({ AddDealRequest: { title: 'Zebra renewal' } });
  await deals.updateDeal({ id: c.data.id, UpdateDealRequest: { status: 'lost' } });

  const all = await deals.searchDeals({ term: 'zebra', fields: 'title' });
  assert.deepEqual(all.data.items.map((i) => i.item.id).sort((x, y) => x - y), [a.data.id, b.data.id, c.data.id]);
  const hit = all.data.items.find((i) => i.item.id === a.data.id);
  assert.equal(typeof hit.result_score, 'number');
  assert.equal(hit.item.type, 'deal');
  assert.equal(hit.item.title, 'Zebra expansion');
  assert.equal(hit.item.value, 42);
  assert.equal(hit.item.currency, 'USD');
  assert.equal(hit.item.status, 'open');
  assert.equal(hit.item.stage.name, 'Qualified');
  assert.deepEqual(hit.item.person, { id: person.data.id, name: 'Searcher Sam' });
  assert.equal(hit.item.owner.id, 1);

  const byPerson = await deals.searchDeals({ term: 'zebra', person_id: person.data.id });
  assert.deepEqual(byPerson.data.items.map((i) => i.item.id), [a.data.id]);
  const byOrg = await deals.searchDeals({ term: 'zebra', organization_id: org.data.id });
  assert.deepEqual(byOrg.data.items.map((i) => i.item.id), [b.data.id]);
  assert.equal(byOrg.data.items[0].item.organization.name, 'Searchable Org');
  const lost = await deals.searchDeals({ term: 'zebra', status: 'lost' });
  assert.deepEqual(lost.data.items.map((i) => i.item.id), [c.data.id]);
  const exact = await deals.searchDeals({ term: 'zebra', exact_match: true });
  assert.deepEqual(exact.data.items.map((i) => i.item.id), [b.data.id]);
  const none = await deals.searchDeals({ term: 'no such deal anywhere' });
  assert.deepEqual(none.data.items, []);
});

test('searchDeals pages with limit and cursor', async () => {
  for (let i = 0; i < 5; i++) {
    await deals.addDeal({ AddDealRequest: { title: `Kiwi ${i}` } });
  }
  const seen = [];
  let cursor;
  do {
    const res = await deals.searchDeals({ term: 'kiwi', limit: 2, cursor });
    assert.ok(res.data.items.length <= 2);
    seen.push(...res.data.items.map((i) => i.item.title));
    cursor = res.additional_data.next_cursor || undefined;
  } while (cursor);
  assert.deepEqual([...seen].sort(), ['Kiwi 0', 'Kiwi 1', 'Kiwi 2', 'Kiwi 3', 'Kiwi 4']);
});

test('searchDeals adds cc_email when include_fields=deal.cc_email, as searchItem does', async () => {
  const created = await deals.addDeal({ AddDealRequest: { title: 'Mailable marmot' } });
  const viaItemSearch = await search.searchItem({ term: 'mailable marmot', item_types: 'deal', include_fields: 'deal.cc_email' });
  const expected = viaItemSearch.data.items[0].item.cc_email;
  assert.match(expected, new RegExp(`\\+deal${created.data.id}@`));
  const plain = await deals.searchDeals({ term: 'mailable marmot' });
  assert.equal(plain.data.items[0].item.cc_email, undefined);
  const res = await deals.searchDeals({ term: 'mailable marmot', include_fields: 'deal.cc_email' });
  assert.deepEqual(res.data.items.map((i) => i.item.id), [created.data.id]);
  assert.equal(res.data.items[0].item.cc_email, expected);
});

test('deal followers: the creator follows; delete, re-add, list and changelog', async () => {
  const created = await deals.addDeal({ AddDealRequest: { title: 'Followed deal' } });
  const id = created.data.id;
  const listed = await deals.getDealFollowers({ id });
  assert.deepEqual(listed.data.map((f) => f.user_id), [1]);
  assert.match(listed.data[0].add_time, TIME);
  await assert.rejects(deals.addDealFollower({ id, AddDealFollowerRequest: { user_id: 1 } }), (err) => {
    assert.equal(err.success, false);
    assert.match(err.error, /already follows/);
    return true;
  });
  const removed = await deals.deleteDealFollower({ id, follower_id: 1 });
  assert.equal(removed.data.user_id, 1);
  const empty = await deals.getDealFollowers({ id });
  assert.deepEqual(empty.data, []);
  const added = await deals.addDealFollower({ id, AddDealFollowerRequest: { user_id: 1 } });
  assert.equal(added.data.user_id, 1);
  const count = await deals.getDeal({ id, include_fields: 'followers_count' });
  assert.equal(count.data.followers_count, 1);
  const log = await deals.getDealFollowersChangelog({ id });
  assert.deepEqual(log.data.map((e) => e.action), ['added', 'removed', 'added']);
  assert.ok(log.data.every((e) => e.follower_user_id === 1 && e.actor_user_id === 1));
});

test('PipelinesApi adds, reads, lists, updates and deletes a pipeline', async () => {
  const created = await pipelines.addPipeline({ AddPipelineRequest: { name: 'Partnerships', is_deal_probability_enabled: true } });
  const id = created.data.id;
  assert.equal(created.data.name, 'Partnerships');
  assert.equal(created.data.is_deal_probability_enabled, true);
  assert.equal(created.data.is_deleted, false);
  assert.match(created.data.add_time, TIME);
  const got = await pipelines.getPipeline({ id });
  assert.equal(got.data.name, 'Partnerships');
  assert.equal(got.data.order_nr, created.data.order_nr);
  const list = await pipelines.getPipelines({ sort_by: 'id', sort_direction: 'asc' });
  assert.deepEqual(list.data.map((p) => p.name).slice(0, 1), ['Pipeline']);
  assert.ok(list.data.some((p) => p.id === id && p.name === 'Partnerships'));
  const paged = await pipelines.getPipelines({ limit: 1, sort_by: 'id', sort_direction: 'asc' });
  assert.equal(paged.data.length, 1);
  assert.equal(typeof paged.additional_data.next_cursor, 'string');
  const next = await pipelines.getPipelines({ limit: 1, sort_by: 'id', sort_direction: 'asc', cursor: paged.additional_data.next_cursor });
  assert.equal(next.data.length, 1);
  assert.notEqual(next.data[0].id, paged.data[0].id);
  const updated = await pipelines.updatePipeline({ id, UpdatePipelineRequest: { name: 'Partners', is_deal_probability_enabled: false } });
  assert.equal(updated.data.name, 'Partners');
  assert.equal(updated.data.is_deal_probability_enabled, false);
  const stage = await stages.addStage({ AddStageRequest: { name: 'Intro', pipeline_id: id } });
  const deleted = await pipelines.deletePipeline({ id });
  assert.equal(deleted.data.id, id);
  const after = await pipelines.getPipelines({ limit: 500 });
  assert.ok(!after.data.some((p) => p.id === id));
  const gone = await pipelines.getPipeline({ id });
  assert.equal(gone.data.is_deleted, true);
  const stageGone = await stages.getStage({ id: stage.data.id });
  assert.equal(stageGone.data.is_deleted, true);
  const noStages = await stages.getStages({ pipeline_id: id });
  assert.deepEqual(noStages.data, []);
  await assert.rejects(deals.addDeal({ AddDealRequest: { title: 'Into the void', pipeline_id: id } }), (err) => {
    assert.equal(err.success, false);
    return true;
  });
});

test('StagesApi adds, reads, lists by pipeline, updates and deletes stages; a stage holding a deal cannot be deleted', async () => {
  const pipeline = await pipelines.addPipeline({ AddPipelineRequest: { name: 'Hiring' } });
  const pid = pipeline.data.id;
  const first = await stages.addStage({ AddStageRequest: { name: 'Applied', pipeline_id: pid, deal_probability: 10 } });
  const second = await stages.addStage({
    AddStageRequest: { name: 'Interview', pipeline_id: pid, deal_probability: 50, is_deal_rot_enabled: true, days_to_rotten: 7 },
  });
  assert.equal(first.data.name, 'Applied');
  assert.equal(first.data.pipeline_id, pid);
  assert.equal(first.data.deal_probability, 10);
  assert.equal(first.data.order_nr, 1);
  assert.equal(second.data.order_nr, 2);
  assert.equal(second.data.is_deal_rot_enabled, true);
  assert.equal(second.data.days_to_rotten, 7);

  const got = await stages.getStage({ id: second.data.id });
  assert.equal(got.data.name, 'Interview');
  assert.equal(got.data.pipeline_id, pid);
  const list = await stages.getStages({ pipeline_id: pid, sort_by: 'order_nr', sort_direction: 'asc' });
  assert.deepEqual(list.data.map((s) => s.name), ['Applied', 'Interview']);
  const everything = await stages.getStages({ limit: 500 });
  assert.ok(everything.data.some((s) => s.name === 'Qualified'));
  assert.ok(everything.data.some((s) => s.id === first.data.id));

  const updated = await stages.updateStage({ id: second.data.id, UpdateStageRequest: { name: 'Final interview', days_to_rotten: null } });
  assert.equal(updated.data.name, 'Final interview');
  assert.equal(updated.data.days_to_rotten, null);
  assert.equal(updated.data.deal_probability, 50);

  const deal = await deals.addDeal({ AddDealRequest: { title: 'Candidate', stage_id: first.data.id } });
  assert.equal(deal.data.pipeline_id, pid);
  await assert.rejects(stages.deleteStage({ id: first.data.id }), (err) => {
    assert.equal(err.success, false);
    assert.match(err.error, /holds 1 deal/);
    return true;
  });
  await assert.rejects(pipelines.deletePipeline({ id: pid }), (err) => {
    assert.equal(err.success, false);
    return true;
  });
  const still = await stages.getStage({ id: first.data.id });
  assert.equal(still.data.is_deleted, false);

  const deleted = await stages.deleteStage({ id: second.data.id });
  assert.equal(deleted.data.id, second.data.id);
  const left = await stages.getStages({ pipeline_id: pid });
  assert.deepEqual(left.data.map((s) => s.name), ['Applied']);

  await deals.updateDeal({ id: deal.data.id, UpdateDealRequest: { stage_id: (await defaultStages()).byName.Qualified.id } });
  const nowEmpty = await stages.deleteStage({ id: first.data.id });
  assert.equal(nowEmpty.data.id, first.data.id);
});

test('ItemSearchApi.searchItem searches persons, organizations and deals together and by type', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Quokka Holdings' } });
  const person = await persons.addPerson({
    AddPersonRequest: { name: 'Quokka Quinn', org_id: org.data.id, emails: [{ value: 'quinn@quokka.example' }] },
  });
  const deal = await deals.addDeal({ AddDealRequest: { title: 'Quokka rollout', person_id: person.data.id, org_id: org.data.id } });

  const all = await search.searchItem({ term: 'quokka' });
  assert.equal(all.success, true);
  const types = all.data.items.map((i) => `${i.item.type}:${i.item.id}`).sort();
  assert.deepEqual(types, [`deal:${deal.data.id}`, `organization:${org.data.id}`, `person:${person.data.id}`].sort());
  for (const i of all.data.items) {
    assert.equal(typeof i.result_score, 'number');
  }
  const personHit = all.data.items.find((i) => i.item.type === 'person').item;
  assert.equal(personHit.name, 'Quokka Quinn');
  assert.deepEqual(personHit.emails, ['quinn@quokka.example']);
  assert.equal(personHit.organization.id, org.data.id);
  const dealHit = all.data.items.find((i) => i.item.type === 'deal').item;
  assert.equal(dealHit.title, 'Quokka rollout');

  const onlyDeals = await search.searchItem({ term: 'quokka', item_types: 'deal' });
  assert.deepEqual(onlyDeals.data.items.map((i) => [i.item.type, i.item.id]), [['deal', deal.data.id]]);
  const two = await search.searchItem({ term: 'quokka', item_types: 'person,organization' });
  assert.deepEqual(two.data.items.map((i) => i.item.type).sort(), ['organization', 'person']);

  const byEmail = await search.searchItem({ term: 'quinn@quokka.example', fields: 'email' });
  assert.deepEqual(byEmail.data.items.map((i) => i.item.id), [person.data.id]);
  const exact = await search.searchItem({ term: 'quokka holdings', exact_match: true });
  assert.deepEqual(exact.data.items.map((i) => [i.item.type, i.item.id]), [['organization', org.data.id]]);

  const related = await search.searchItem({ term: 'quokka holdings', item_types: 'organization', search_for_related_items: true });
  assert.deepEqual(related.data.items.map((i) => i.item.id), [org.data.id]);
  const relatedKeys = (related.data.related_items || []).map((i) => `${i.item.type}:${i.item.id}`).sort();
  assert.deepEqual(relatedKeys, [`deal:${deal.data.id}`, `person:${person.data.id}`]);
});

test('ItemSearchApi.searchItem pages with limit and cursor', async () => {
  for (let i = 0; i < 5; i++) {
    await deals.addDeal({ AddDealRequest: { title: `Wombat ${i}` } });
  }
  const seen = [];
  let cursor;
  do {
    const res = await search.searchItem({ term: 'wombat', item_types: 'deal', limit: 2, cursor });
    assert.ok(res.data.items.length <= 2);
    seen.push(...res.data.items.map((i) => i.item.title));
    cursor = res.additional_data.next_cursor || undefined;
  } while (cursor);
  assert.deepEqual([...seen].sort(), ['Wombat 0', 'Wombat 1', 'Wombat 2', 'Wombat 3', 'Wombat 4']);
  await assert.rejects(search.searchItem({ term: 'wombat', limit: 101 }), (err) => {
    assert.equal(err.success, false);
    return true;
  });
});

test('ItemSearchApi.searchItemByField matches exactly, at the beginning or in the middle', async () => {
  const deal = await deals.addDeal({ AddDealRequest: { title: 'Platypus migration' } });
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Pia Platypus' } });

  const exact = await search.searchItemByField({ term: 'Platypus migration', entity_type: 'deal', field: 'title', match: 'exact' });
  assert.deepEqual(exact.data, [{ id: deal.data.id, title: 'Platypus migration' }]);
  const beginning = await search.searchItemByField({ term: 'Platy', entity_type: 'deal', field: 'title', match: 'beginning' });
  assert.deepEqual(beginning.data.map((d) => d.id), [deal.data.id]);
  const notAtStart = await search.searchItemByField({ term: 'migration', entity_type: 'deal', field: 'title', match: 'beginning' });
  assert.deepEqual(notAtStart.data, []);
  const middle = await search.searchItemByField({ term: 'migration', entity_type: 'deal', field: 'title', match: 'middle' });
  assert.deepEqual(middle.data.map((d) => d.id), [deal.data.id]);
  const caseSensitive = await search.searchItemByField({ term: 'platypus migration', entity_type: 'deal', field: 'title', match: 'exact' });
  assert.deepEqual(caseSensitive.data, []);
  const personName = await search.searchItemByField({ term: 'Platypus', entity_type: 'person', field: 'name', match: 'middle' });
  assert.deepEqual(personName.data, [{ id: person.data.id, name: 'Pia Platypus' }]);
});

test('DealFieldsApi lists, reads and adds deal fields; custom values are stored on deals and searchable', async () => {
  const list = await dealFields.getDealFields({ limit: 500 });
  const codes = list.data.map((f) => f.field_code);
  for (const code of ['title', 'value', 'stage_id', 'pipeline_id', 'status']) {
    assert.ok(codes.includes(code), `dealFields lists ${code}`);
  }
  assert.ok(list.data.every((f) => f.is_custom_field === false));
  const title = await dealFields.getDealField({ field_code: 'title' });
  assert.equal(title.data.field_name, 'Title');
  assert.equal(title.data.field_type, 'varchar');

  const created = await dealFields.addDealField({ AddDealFieldRequest: { field_name: 'Contract number', field_type: 'varchar' } });
  const code = created.data.field_code;
  assert.match(code, /^[0-9a-f]{40}$/);
  assert.equal(created.data.is_custom_field, true);
  const again = await dealFields.getDealField({ field_code: code });
  assert.equal(again.data.field_name, 'Contract number');

  const deal = await deals.addDeal({ AddDealRequest: { title: 'Custom deal', custom_fields: { [code]: 'CN-7781' } } });
  assert.equal(deal.data.custom_fields[code], 'CN-7781');
  const got = await deals.getDeal({ id: deal.data.id, custom_fields: code });
  assert.deepEqual(got.data.custom_fields, { [code]: 'CN-7781' });
  const found = await deals.searchDeals({ term: 'CN-7781', fields: 'custom_fields' });
  assert.deepEqual(found.data.items.map((i) => i.item.id), [deal.data.id]);
  const byField = await search.searchItemByField({ term: 'CN-77', entity_type: 'deal', field: code, match: 'beginning' });
  assert.deepEqual(byField.data.map((d) => d.id), [deal.data.id]);

  const paged = await dealFields.getDealFields({ limit: 2 });
  assert.equal(paged.data.length, 2);
  assert.equal(typeof paged.additional_data.next_cursor, 'string');
});

test('OrganizationFieldsApi lists, reads and adds organization fields', async () => {
  const list = await orgFields.getOrganizationFields({ limit: 500 });
  const codes = list.data.map((f) => f.field_code);
  assert.ok(codes.includes('name'));
  assert.ok(codes.includes('address'));
  const name = await orgFields.getOrganizationField({ field_code: 'name' });
  assert.equal(name.data.field_name, 'Name');
  assert.equal(name.data.is_custom_field, false);
  const created = await orgFields.addOrganizationField({
    AddOrganizationFieldRequest: { field_name: 'Segment', field_type: 'enum', options: [{ label: 'SMB' }, { label: 'Enterprise' }] },
  });
  const code = created.data.field_code;
  assert.match(code, /^[0-9a-f]{40}$/);
  assert.deepEqual(created.data.options.map((o) => o.label), ['SMB', 'Enterprise']);
  const enterprise = created.data.options.find((o) => o.label === 'Enterprise').id;
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Segmented Org', custom_fields: { [code]: enterprise } } });
  const labelled = await orgs.getOrganization({ id: org.data.id, include_option_labels: true });
  assert.deepEqual(labelled.data.custom_fields[code], { id: enterprise, label: 'Enterprise' });
});

test('PersonsApi.getPerson counts the person\'s deals by status', async () => {
  const person = await persons.addPerson({ AddPersonRequest: { name: 'Counted Carla' } });
  const id = person.data.id;
  const include = 'open_deals_count,won_deals_count,lost_deals_count,closed_deals_count';
  const before = await persons.getPerson({ id, include_fields: include });
  assert.equal(before.data.open_deals_count, 0);
  assert.equal(before.data.won_deals_count, 0);

  const made = [];
  for (const title of ['Count 1', 'Count 2', 'Count 3', 'Count 4']) {
    made.push((await deals.addDeal({ AddDealRequest: { title, person_id: id } })).data.id);
  }
  await deals.updateDeal({ id: made[0], UpdateDealRequest: { status: 'won' } });
  await deals.updateDeal({ id: made[1], UpdateDealRequest: { status: 'lost' } });
  await deals.deleteDeal({ id: made[3] });

  const after = await persons.getPerson({ id, include_fields: include });
  assert.equal(after.data.open_deals_count, 1);
  assert.equal(after.data.won_deals_count, 1);
  assert.equal(after.data.lost_deals_count, 1);
  assert.equal(after.data.closed_deals_count, 2);
  const plain = await persons.getPerson({ id });
  assert.equal(plain.data.open_deals_count, undefined);

  const other = await persons.addPerson({ AddPersonRequest: { name: 'Counted Colin' } });
  await deals.updateDeal({ id: made[2], UpdateDealRequest: { person_id: other.data.id } });
  const moved = await persons.getPerson({ id, include_fields: include });
  assert.equal(moved.data.open_deals_count, 0);
  const gained = await persons.getPerson({ id: other.data.id, include_fields: include });
  assert.equal(gained.data.open_deals_count, 1);
});

test('OrganizationsApi.getOrganization counts the organization\'s deals by status', async () => {
  const org = await orgs.addOrganization({ AddOrganizationRequest: { name: 'Counted Corp' } });
  const id = org.data.id;
  const a = await deals.addDeal({ AddDealRequest: { title: 'Org count A', org_id: id } });
  await deals.addDeal({ AddDealRequest: { title: 'Org count B', org_id: id } });
  await deals.updateDeal({ id: a.data.id, UpdateDealRequest: { status: 'won' } });
  const got = await orgs.getOrganization({ id, include_fields: 'open_deals_count,won_deals_count,closed_deals_count' });
  assert.equal(got.data.open_deals_count, 1);
  assert.equal(got.data.won_deals_count, 1);
  assert.equal(got.data.closed_deals_count, 1);
});

test('deal errors reject with Pipedrive\'s envelope', async () => {
  await assert.rejects(deals.addDeal({ AddDealRequest: { value: 5 } }), (err) => {
    assert.equal(err.success, false);
    assert.match(err.error, /title/i);
    assert.equal(err.data, null);
    return true;
  });
  await assert.rejects(deals.getDeal({ id: 987654 }), (err) => {
    assert.equal(err.success, false);
    assert.equal(err.error, 'Deal not found');
    return true;
  });
  await assert.rejects(deals.addDeal({ AddDealRequest: { title: 'Nowhere', stage_id: 987654 } }), (err) => {
    assert.equal(err.success, false);
    return true;
  });
});
