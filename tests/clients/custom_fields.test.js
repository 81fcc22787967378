// Custom fields through the official SDKs: v2 PersonFieldsApi + custom_fields on persons, and
// v1 hash keys at the person's root.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { v2 } = require('pipedrive');
const { v1 } = require('pipedrive-v1');
const { startServer } = require('./server');

let server;
let fields;
let persons;
let personsV1;
let fieldsV1;

before(async () => {
  server = await startServer();
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  fields = new v2.PersonFieldsApi(config);
  persons = new v2.PersonsApi(config);
  const configV1 = new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` });
  personsV1 = new v1.PersonsApi(configV1);
  fieldsV1 = new v1.PersonFieldsApi(configV1);
});

after(async () => {
  await server.stop();
});

test('PersonFieldsApi creates, lists, renames and deletes a field and its options', async () => {
  const created = await fields.addPersonField({
    AddPersonFieldRequest: { field_name: 'Lead source', field_type: 'enum', options: [{ label: 'Inbound' }, { label: 'Outbound' }] },
  });
  const code = created.data.field_code;
  assert.match(code, /^[0-9a-f]{40}$/);
  assert.deepEqual(created.data.options.map((o) => o.label), ['Inbound', 'Outbound']);

  const list = await fields.getPersonFields({ limit: 500 });
  assert.ok(list.data.some((f) => f.field_code === code && f.is_custom_field));
  assert.ok(list.data.some((f) => f.field_code === 'name' && !f.is_custom_field));

  const added = await fields.addPersonFieldOptions({ field_code: code, AddDealFieldOptionsRequestInner: [{ label: 'Referral' }] });
  assert.equal(added.data.length, 1);
  assert.equal(added.data[0].label, 'Referral');
  const renamed = await fields.updatePersonFieldOptions({
    field_code: code,
    UpdateDealFieldOptionsRequestInner: [{ id: added.data[0].id, label: 'Partner referral' }],
  });
  assert.equal(renamed.data[0].label, 'Partner referral');
  await fields.deletePersonFieldOptions({ field_code: code, DeleteDealFieldOptionsRequestInner: [{ id: added.data[0].id }] });

  const updated = await fields.updatePersonField({ field_code: code, UpdatePersonFieldRequest: { field_name: 'Source' } });
  assert.equal(updated.data.field_name, 'Source');
  const got = await fields.getPersonField({ field_code: code });
  assert.equal(got.data.options.length, 2);
  const deleted = await fields.deletePersonField({ field_code: code });
  assert.equal(deleted.data.field_code, code);
});

test('custom_fields on v2 persons are typed, and read back in v1 at the root', async () => {
  const budget = (await fields.addPersonField({ AddPersonFieldRequest: { field_name: 'Budget', field_type: 'monetary' } })).data.field_code;
  const tier = await fields.addPersonField({
    AddPersonFieldRequest: { field_name: 'Tier', field_type: 'set', options: [{ label: 'Gold' }, { label: 'Silver' }] },
  });
  const [gold, silver] = tier.data.options.map((o) => o.id);
  const created = await persons.addPerson({
    AddPersonRequest: {
      name: 'Custom Carl',
      custom_fields: { [budget]: { value: 1200, currency: 'EUR' }, [tier.data.field_code]: [gold, silver] },
    },
  });
  assert.deepEqual(created.data.custom_fields[budget], { value: 1200, currency: 'EUR' });
  assert.deepEqual(created.data.custom_fields[tier.data.field_code], [gold, silver]);

  const labelled = await persons.getPerson({ id: created.data.id, include_option_labels: true });
  assert.deepEqual(labelled.data.custom_fields[tier.data.field_code], [{ id: gold, label: 'Gold' }, { id: silver, label: 'Silver' }]);

  const patched = await persons.updatePerson({ id: created.data.id, UpdatePersonRequest: { custom_fields: { [tier.data.field_code]: null } } });
  assert.equal(patched.data.custom_fields[tier.data.field_code], null);

  const legacy = await personsV1.getPerson({ id: created.data.id });
  assert.equal(legacy.data[budget], 1200);
  assert.equal(legacy.data[`${budget}_currency`], 'EUR');
});

test('v1 hash keys at the root write custom values that v2 reads', async () => {
  const f = await fieldsV1.addPersonField({ CreateFieldRequest: { name: 'Nickname', field_type: 'varchar' } });
  const key = f.data.key;
  const created = await personsV1.addPerson({ AddPersonRequest: { name: 'Hash Hannah', [key]: 'Hanna' } });
  assert.equal(created.data[key], 'Hanna');
  const list = await fieldsV1.getPersonFields({ start: 0, limit: 500 });
  assert.ok(list.data.some((x) => x.key === key && x.edit_flag === true));
  const modern = await persons.getPerson({ id: created.data.id, custom_fields: key });
  assert.deepEqual(modern.data.custom_fields, { [key]: 'Hanna' });
  const found = await persons.searchPersons({ term: 'hanna', fields: 'custom_fields' });
  assert.equal(found.data.items[0].item.id, created.data.id);
});
