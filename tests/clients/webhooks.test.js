// Webhooks through Pipedrive's official SDK (pipedrive@33.7.0: v1 WebhooksApi for the
// subscriptions, v2 PersonsApi for the changes that fire them), delivered by the real server's
// dispatcher to receivers this suite starts on 127.0.0.1. The server runs with short retry
// delays (`--webhook-retry-delays 0.2,0.4,0.6`, Pipedrive's are 3, 30 and 150 s) so that
// retries are seen within a test. pipestack's own delivery log
// (`GET /v1/webhooks/{id}/deliveries`) is not in the SDK: it is read with fetch.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const axios = require('axios');
const { v1, v2 } = require('pipedrive');
const { startServer } = require('./server');

let server;
let webhooks;
let persons;

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/// The fields of the SDK's BaseWebhook model (pipedrive@33.7.0, v1/models/base-webhook).
const BASE_WEBHOOK_FIELDS = [
  'id', 'company_id', 'owner_id', 'user_id', 'event_action', 'event_object', 'subscription_url',
  'version', 'is_active', 'add_time', 'remove_time', 'type', 'http_auth_user',
  'http_auth_password', 'remove_reason', 'last_delivery_time', 'last_http_status', 'admin_id',
  'name',
];

/// The SDKs reject with the response body alone; this keeps the HTTP status on that body as a
/// non-enumerable `httpStatus` so that tests can assert it (not `status`, as the other suites
/// do: these routes' bodies have their own `status`, "ok" or "error").
function keepStatus(config) {
  config.baseOptions = {
    transformResponse: [
      ...axios.defaults.transformResponse,
      function keepErrorStatus(data, _headers, status) {
        if (status >= 400 && data && typeof data === 'object') {
          Object.defineProperty(data, 'httpStatus', { value: status });
        }
        return data;
      },
    ],
  };
  return config;
}

before(async () => {
  server = await startServer(['--webhook-retry-delays', '0.2,0.4,0.6']);
  const configV1 = keepStatus(new v1.Configuration({ apiKey: server.token, basePath: `${server.base}/v1` }));
  webhooks = new v1.WebhooksApi(configV1);
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  persons = new v2.PersonsApi(config);
});

after(async () => {
  await server.stop();
});

/// An HTTP receiver on 127.0.0.1: records every request (method, path, headers, JSON body) and
/// answers `respond(n)` (the status for the n-th request, 1 first; 200 by default).
async function startReceiver(t, respond = () => 200) {
  const requests = [];
  let waiters = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      requests.push({ method: req.method, path: req.url, headers: req.headers, body, at: Date.now() });
      res.statusCode = respond(requests.length);
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
      waiters = waiters.filter((w) => !w.check());
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  const receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /// Resolves with the requests once there are at least `n`; rejects after `ms`.
    waitFor(n, ms = 10000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`receiver got ${requests.length} of ${n} requests in ${ms} ms: `
            + JSON.stringify(requests.map((r) => r.body))));
        }, ms);
        const waiter = {
          check: () => {
            if (requests.length < n) return false;
            clearTimeout(timer);
            resolve(requests.slice());
            return true;
          },
        };
        if (!waiter.check()) waiters.push(waiter);
      });
    },
    close: () => new Promise((resolve) => {
      srv.close(resolve);
      srv.closeAllConnections();
    }),
  };
  t.after(() => receiver.close());
  return receiver;
}

/// Adds a webhook through the SDK and deletes it when the test ends (whatever the test did).
async function addWebhook(t, fields) {
  const res = await webhooks.addWebhook({ AddWebhookRequest: { name: 'pipestack test', ...fields } });
  t.after(async () => {
    await webhooks.deleteWebhook({ id: res.data.id }).catch((err) => {
      if (err.httpStatus !== 404) throw err;
    });
  });
  return res;
}

/// Asserts that `promise` rejects with the webhooks routes' error envelope: the HTTP status,
/// `status: "error"`, and `errors` naming `field`.
async function rejectsWith(promise, httpStatus, field, pattern) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.success, false, `rejected with ${JSON.stringify(err)}`);
    assert.equal(err.httpStatus, httpStatus, `HTTP status of ${JSON.stringify(err)}`);
    assert.equal(err.status, 'error');
    assert.match(err.error, pattern);
    assert.ok(Array.isArray(err.errors[field]), `errors.${field} in ${JSON.stringify(err)}`);
    assert.equal(err.errors[field].length, 1);
    assert.match(err.errors[field][0], pattern);
    return true;
  });
}

/// pipestack's delivery log of a webhook (not in the SDK).
async function deliveries(id) {
  const res = await fetch(`${server.base}/v1/webhooks/${id}/deliveries`, {
    headers: { 'x-api-token': server.token },
  });
  return { httpStatus: res.status, body: await res.json() };
}

/// Polls the delivery log until it has `n` attempts (an attempt is logged after its answer
/// arrives, so just after the receiver saw it).
async function waitForLog(id, n, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const { httpStatus, body } = await deliveries(id);
    assert.equal(httpStatus, 200, JSON.stringify(body));
    if (body.data.length >= n) return body.data;
    if (Date.now() > deadline) {
      throw new Error(`log has ${body.data.length} of ${n} attempts in ${ms} ms: ${JSON.stringify(body.data)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('addWebhook defaults to version 2.0 and answers the SDK\'s webhook model; getWebhooks lists it and deleteWebhook removes it', async (t) => {
  const url = 'http://127.0.0.1:9/crm-hook';
  const res = await addWebhook(t, { subscription_url: url, event_action: 'create', event_object: 'person', name: 'New persons' });
  assert.equal(res.status, 'ok');
  assert.equal(res.success, true);
  const w = res.data;
  assert.deepEqual(Object.keys(w).sort(), [...BASE_WEBHOOK_FIELDS].sort());
  assert.equal(typeof w.id, 'number');
  assert.equal(w.company_id, 1);
  assert.equal(w.owner_id, 1);
  assert.equal(w.user_id, 1);
  assert.equal(w.admin_id, 1);
  assert.equal(w.event_action, 'create');
  assert.equal(w.event_object, 'person');
  assert.equal(w.subscription_url, url);
  assert.equal(w.version, '2.0');
  assert.equal(w.is_active, 1);
  assert.match(w.add_time, ISO_MS);
  assert.equal(w.remove_time, null);
  assert.equal(w.type, 'general');
  assert.equal(w.http_auth_user, null);
  assert.equal(w.http_auth_password, null);
  assert.equal(w.remove_reason, null);
  assert.equal(w.last_delivery_time, null);
  assert.equal(w.last_http_status, null);
  assert.equal(w.name, 'New persons');

  const listed = await webhooks.getWebhooks();
  assert.equal(listed.status, 'ok');
  assert.equal(listed.success, true);
  assert.deepEqual(listed.data, [w]);

  const deleted = await webhooks.deleteWebhook({ id: w.id });
  assert.deepEqual(deleted, { status: 'ok', success: true });
  const after = await webhooks.getWebhooks();
  assert.equal(after.success, true);
  assert.deepEqual(after.data, []);
});

test('a v2 webhook receives create, change (previous holds the old name) and delete of a person made with the v2 SDK', async (t) => {
  const receiver = await startReceiver(t);
  const hook = (await addWebhook(t, { subscription_url: receiver.url, event_action: '*', event_object: 'person' })).data;
  assert.equal(hook.version, '2.0');

  const person = (await persons.addPerson({ AddPersonRequest: { name: 'Hook Hanna' } })).data;
  const [created] = await receiver.waitFor(1);
  assert.equal(created.method, 'POST');
  assert.equal(created.path, '/hook');
  assert.match(created.headers['content-type'], /^application\/json/);
  assert.equal(created.headers.authorization, undefined, 'no Basic auth without http_auth_user');
  const c = created.body;
  assert.equal(c.meta.action, 'create');
  assert.equal(c.meta.entity, 'person');
  assert.equal(c.meta.entity_id, String(person.id));
  assert.equal(c.meta.version, '2.0');
  assert.equal(c.meta.webhook_id, String(hook.id));
  assert.equal(c.meta.attempt, 1);
  assert.equal(c.meta.company_id, '1');
  assert.equal(c.meta.user_id, '1');
  assert.match(c.meta.id, UUID);
  assert.match(c.meta.timestamp, ISO_MS);
  assert.equal(c.data.id, person.id);
  assert.equal(c.data.name, 'Hook Hanna');
  assert.equal(c.previous, null);

  await persons.updatePerson({ id: person.id, UpdatePersonRequest: { name: 'Hook Hanna Renamed' } });
  const changed = (await receiver.waitFor(2))[1].body;
  assert.equal(changed.meta.action, 'change');
  assert.equal(changed.meta.entity, 'person');
  assert.equal(changed.meta.entity_id, String(person.id));
  assert.equal(changed.data.name, 'Hook Hanna Renamed');
  assert.equal(changed.previous.name, 'Hook Hanna');
  assert.notEqual(changed.meta.id, c.meta.id, 'each event has its own meta.id');

  await persons.deletePerson({ id: person.id });
  const requests = await receiver.waitFor(3);
  const gone = requests[2].body;
  assert.equal(gone.meta.action, 'delete');
  assert.equal(gone.meta.entity, 'person');
  assert.equal(gone.meta.entity_id, String(person.id));
  assert.equal(gone.data, null);
  assert.equal(gone.previous.id, person.id);
  assert.equal(gone.previous.name, 'Hook Hanna Renamed');
  assert.equal(receiver.requests.length, 3, 'one delivery per event');
});

test('a v1.0 webhook with http_auth credentials receives added.person with Basic auth, v1\'s current and retry 0', async (t) => {
  const receiver = await startReceiver(t);
  const hook = (await addWebhook(t, {
    subscription_url: receiver.url,
    event_action: 'added',
    event_object: 'person',
    version: '1.0',
    http_auth_user: 'hook-user',
    http_auth_password: 's3cret:pass',
  })).data;
  assert.equal(hook.version, '1.0');
  assert.equal(hook.event_action, 'added');
  assert.equal(hook.http_auth_user, 'hook-user');
  assert.equal(hook.http_auth_password, '********', 'a password set is not shown again');

  const person = (await persons.addPerson({
    AddPersonRequest: { name: 'Basic Bert', emails: [{ value: 'bert@example.com', primary: true, label: 'work' }] },
  })).data;
  const [delivery] = await receiver.waitFor(1);
  const expected = `Basic ${Buffer.from('hook-user:s3cret:pass').toString('base64')}`;
  assert.equal(delivery.headers.authorization, expected);
  const b = delivery.body;
  assert.equal(b.event, 'added.person');
  assert.equal(b.v, 1);
  assert.equal(b.retry, 0);
  assert.equal(b.meta.action, 'added');
  assert.equal(b.meta.object, 'person');
  assert.equal(b.meta.id, person.id);
  assert.equal(b.meta.webhook_id, String(hook.id));
  assert.equal(b.current.id, person.id);
  assert.equal(b.current.name, 'Basic Bert');
  assert.equal(b.current.owner_id, 1, 'v1 webhooks send references as plain ids');
  assert.equal(b.current.email[0].value, 'bert@example.com');
  assert.equal(b.previous, null);
});

test('a delivery answered 500 is sent again with meta.attempt 2 and otherwise the same body', async (t) => {
  const receiver = await startReceiver(t, (n) => (n === 1 ? 500 : 200));
  const hook = (await addWebhook(t, { subscription_url: receiver.url, event_action: 'create', event_object: 'person' })).data;

  const person = (await persons.addPerson({ AddPersonRequest: { name: 'Retry Rita' } })).data;
  const [first, second] = await receiver.waitFor(2);
  assert.equal(first.body.meta.attempt, 1);
  assert.equal(second.body.meta.attempt, 2);
  assert.equal(second.body.meta.entity_id, String(person.id));
  assert.equal(second.body.data.name, 'Retry Rita');
  const { attempt: _a1, ...meta1 } = first.body.meta;
  const { attempt: _a2, ...meta2 } = second.body.meta;
  assert.deepEqual(meta2, meta1, 'a retry is the same event (same meta.id)');
  assert.deepEqual(second.body.data, first.body.data);
  assert.ok(second.at - first.at >= 150, `retried after ${second.at - first.at} ms (delay 0.2 s)`);

  await waitForLog(hook.id, 2);
  const listed = (await webhooks.getWebhooks()).data.find((w) => w.id === hook.id);
  assert.equal(listed.last_http_status, 200);
  assert.match(listed.last_delivery_time, ISO_MS);
  assert.equal(listed.is_active, 1);
  assert.equal(receiver.requests.length, 2, 'no retry after a 200');
});

test('addWebhook rejects an unknown event_object with 400 and the field in errors', async () => {
  await rejectsWith(
    webhooks.addWebhook({
      AddWebhookRequest: { subscription_url: 'http://127.0.0.1:9/h', event_action: 'create', event_object: 'persons', name: 'Typo' },
    }),
    400,
    'event_object',
    /persons/,
  );
  assert.deepEqual((await webhooks.getWebhooks()).data, [], 'nothing was added');
});

test('deleteWebhook of an unknown id rejects with 404', async () => {
  await rejectsWith(webhooks.deleteWebhook({ id: 987654 }), 404, 'id', /not found/i);
});

test('GET /v1/webhooks/{id}/deliveries lists the attempts newest first with http_status and success', async (t) => {
  const statuses = [500, 503, 200];
  const receiver = await startReceiver(t, (n) => statuses[n - 1] ?? 200);
  const hook = (await addWebhook(t, { subscription_url: receiver.url, event_action: 'create', event_object: 'person' })).data;
  const empty = await deliveries(hook.id);
  assert.equal(empty.httpStatus, 200);
  assert.deepEqual(empty.body, { status: 'ok', success: true, data: [] });

  const person = (await persons.addPerson({ AddPersonRequest: { name: 'Logged Lena' } })).data;
  const got = await receiver.waitFor(3);
  assert.deepEqual(got.map((r) => r.body.meta.attempt), [1, 2, 3]);
  const log = await waitForLog(hook.id, 3);
  assert.equal(log.length, 3);
  assert.deepEqual(log.map((a) => a.attempt), [3, 2, 1]);
  assert.deepEqual(log.map((a) => a.http_status), [200, 503, 500]);
  assert.deepEqual(log.map((a) => a.success), [true, false, false]);
  for (const a of log) {
    assert.equal(typeof a.id, 'number');
    assert.equal(a.event, 'added.person');
    assert.equal(a.object_id, person.id);
    assert.match(a.time, ISO_MS);
    assert.equal(typeof a.latency_ms, 'number');
    assert.equal(a.error, null);
  }
  assert.ok(log[0].time >= log[1].time && log[1].time >= log[2].time, JSON.stringify(log.map((a) => a.time)));

  const unknown = await deliveries(987654);
  assert.equal(unknown.httpStatus, 404);
  assert.equal(unknown.body.success, false);
});

test('a change.person webhook is not sent the person\'s create, only its change', async (t) => {
  const receiver = await startReceiver(t);
  await addWebhook(t, { subscription_url: receiver.url, event_action: 'change', event_object: 'person' });
  const person = (await persons.addPerson({ AddPersonRequest: { name: 'Filter Fay' } })).data;
  await persons.updatePerson({ id: person.id, UpdatePersonRequest: { name: 'Filter Fay Changed' } });
  // One object's deliveries to a webhook go out in order: had the create been sent, it would
  // have arrived before the change.
  const [only] = await receiver.waitFor(1);
  assert.equal(only.body.meta.action, 'change');
  assert.equal(only.body.data.name, 'Filter Fay Changed');
  assert.equal(only.body.previous.name, 'Filter Fay');
  assert.equal(receiver.requests.length, 1);
});

test('the 41st webhook of a user is refused with 422', async (t) => {
  for (let i = 1; i <= 40; i++) {
    await addWebhook(t, { subscription_url: `http://127.0.0.1:9/h${i}`, event_action: 'create', event_object: 'deal', name: `Hook ${i}` });
  }
  assert.equal((await webhooks.getWebhooks()).data.length, 40);
  await rejectsWith(
    webhooks.addWebhook({
      AddWebhookRequest: { subscription_url: 'http://127.0.0.1:9/h41', event_action: 'create', event_object: 'deal', name: 'Hook 41' },
    }),
    422,
    'subscription_url',
    /limit/i,
  );
  assert.equal((await webhooks.getWebhooks()).data.length, 40);
});
