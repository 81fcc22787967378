// What Pipedrive's official SDK sees of pipestack's rate limits (`serve --rate-limits FILE`).
// The SDK rejects with the response body only (Pipedrive's envelope): status and headers are
// not passed on, which is what client-nodejs#725 complains about; the same request over plain
// HTTP shows the 429 with Retry-After and the x-ratelimit headers.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { v2 } = require('pipedrive');
const { startServer } = require('./server');

let server;
let persons;

before(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pipestack-')), 'limits.json');
  // A burst of 3 per 60 s: the test cannot outrun the window.
  fs.writeFileSync(file, JSON.stringify({ burst_limit: 3, burst_window_secs: 60 }));
  server = await startServer(['--rate-limits', file]);
  const config = new v2.Configuration({ apiKey: server.token, basePath: `${server.base}/api/v2` });
  persons = new v2.PersonsApi(config);
});

after(async () => {
  await server.stop();
});

test('the SDK gets a 429 with Retry-After and the rate-limit headers past the burst limit', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await persons.getPersons({ limit: 1 });
    assert.equal(res.success, true);
  }
  await assert.rejects(persons.getPersons({ limit: 1 }), (err) => {
    assert.equal(err.success, false);
    assert.match(err.error, /at most 3 requests per 60 s/);
    assert.equal(err.data, null);
    return true;
  });
  const res = await fetch(`${server.base}/api/v2/persons?limit=1`, {
    headers: { 'x-api-token': server.token },
  });
  assert.equal(res.status, 429);
  const h = (name) => res.headers.get(name);
  assert.equal(h('x-ratelimit-limit'), '3');
  assert.equal(h('x-ratelimit-remaining'), '0');
  assert.ok(Number(h('x-ratelimit-reset')) > 0 && Number(h('x-ratelimit-reset')) <= 60);
  assert.equal(h('retry-after'), h('x-ratelimit-reset'));
  assert.equal(h('x-daily-ratelimit-token-limit'), '60000');
  assert.equal(h('x-daily-ratelimit-token-remaining'), String(60000 - 3 * 10));
  const body = await res.json();
  assert.equal(body.success, false);
});
