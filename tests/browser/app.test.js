// The web app in a real headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM): sign in,
// add a person with a custom field, find them by typing, edit them, add a note and see the
// count, move their deal on the board, mark their call done, on a phone's width too. With PIPESTACK_SCREENSHOTS=DIR the main pages are saved
// there (docs/screenshots/ in the repository).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startServer } = require('../clients/server.js');

const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.PIPESTACK_SCREENSHOTS;

async function api(server, method, route, body) {
  const res = await fetch(server.base + route, {
    method,
    headers: { 'x-api-token': server.token, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(json.success, `${method} ${route}: ${JSON.stringify(json)}`);
  return json.data;
}

async function shot(page, name) {
  if (SHOTS) {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }
}

test('a team member signs in, adds, finds, edits and notes a person', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: EXECUTABLE, args: ['--no-sandbox'] });
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const colour = await api(server, 'POST', '/v1/personFields', { name: 'Favourite colour', field_type: 'varchar' });
  await api(server, 'POST', '/v1/persons', { name: 'Alan Turing', email: ['alan@example.com'] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(10000);

  // The root sends a browser to the app, which asks it to sign in first.
  await page.goto(server.base + '/');
  assert.match(page.url(), /\/app\/sign-in$/);
  await shot(page, 'sign-in');
  await page.getByLabel('API token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'That token opens no session' }).waitFor();
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/app\/persons$/);
  await page.getByRole('link', { name: 'Alan Turing' }).waitFor();

  // Add a person with a custom field; a mistake first, shown by its field.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Add a person' }).click();
  await page.getByLabel('Favourite colour').fill('Teal');
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.locator('#name-error').waitFor();
  assert.equal(await page.getByLabel('Favourite colour').inputValue(), 'Teal', 'what was typed is kept');
  await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
  await page.getByLabel(/^Emails/).fill('grace@example.com');
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
  const added = Number(page.url().split('/').pop());
  assert.ok(added > 0);
  const stored = await api(server, 'GET', `/v1/persons/${added}`);
  assert.equal(stored[colour.key], 'Teal');

  // Find her by typing: the results change without the form being sent.
  await page.getByRole('link', { name: 'Persons' }).first().click();
  await page.getByRole('link', { name: 'Alan Turing' }).waitFor();
  await page.getByLabel('Search').pressSequentially('hopp', { delay: 30 });
  await page.getByRole('link', { name: 'Alan Turing' }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
  await shot(page, 'persons');

  // Edit her, then add a note and see the count.
  await page.getByRole('link', { name: 'Grace Hopper' }).click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Grace Brewster Hopper');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Grace Brewster Hopper' }).waitFor();
  assert.equal((await api(server, 'GET', `/v1/persons/${added}`)).name, 'Grace Brewster Hopper');
  // The change is in her history, marked as made in the app.
  const change = page.locator('table.history tr', { hasText: 'Grace Brewster Hopper' }).first();
  await change.waitFor();
  assert.match(await change.textContent(), /Grace Hopper.*Grace Brewster Hopper/);
  assert.match(await change.textContent(), /in the app/);
  assert.equal(await page.locator('#note-count').textContent(), '0');
  await page.getByLabel('Add a note').fill('Invented the first compiler.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByText('Invented the first compiler.').waitFor();
  assert.equal(await page.locator('#note-count').textContent(), '1');
  await shot(page, 'person');

  // Her deal moves to another stage on the board; her call is marked done.
  const deal = await api(server, 'POST', '/api/v2/deals', { title: 'Compiler licence', value: 5000, person_id: added });
  const stages = await api(server, 'GET', `/api/v2/stages?pipeline_id=${deal.pipeline_id}`);
  await api(server, 'POST', '/api/v2/activities', { subject: 'Call Grace', person_id: added, due_date: '2999-01-01' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deals' }).click();
  const card = page.locator('article.deal', { hasText: 'Compiler licence' });
  assert.equal(await card.getByLabel('Stage').inputValue(), String(stages[0].id));
  await card.getByLabel('Stage').selectOption(String(stages[2].id));
  await card.getByRole('button', { name: 'Move' }).click();
  await page.locator(`#stage-${stages[2].id} ~ article.deal`, { hasText: 'Compiler licence' }).waitFor();
  assert.equal((await api(server, 'GET', `/api/v2/deals/${deal.id}`)).stage_id, stages[2].id);
  await shot(page, 'deals');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activities' }).click();
  await page.getByRole('button', { name: 'Mark done: Call Grace' }).click();
  await page.getByRole('link', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Mark undone: Call Grace' }).waitFor();

  // Every control has a label; the first Tab reaches the skip link.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map((el) => el.name));
  assert.deepEqual(unlabelled, []);
  await page.goto(server.base + `/app/persons/${added}`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');

  // A phone's width: nothing wider than the screen.
  await page.setViewportSize({ width: 375, height: 800 });
  for (const route of ['/app/persons', `/app/persons/${added}`, `/app/persons/${added}/edit`, '/app/activities', '/app/deals']) {
    await page.goto(server.base + route);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375, `${route} is ${wide}px wide on a 375px screen`);
  }
  await page.goto(server.base + `/app/persons/${added}`);
  await shot(page, 'person-phone');

  // Another id than one's own: a 404 page. Signing out ends the session.
  const missing = await page.goto(server.base + '/app/persons/999999');
  assert.equal(missing.status(), 404);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/app\/sign-in$/);
  await page.goto(server.base + `/app/persons/${added}`);
  assert.match(page.url(), /\/app\/sign-in$/);
});
