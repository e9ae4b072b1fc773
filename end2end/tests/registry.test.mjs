// End-to-end tests of experiment tracking and the promotion workflow in Chromium.
//
// Settings come from the environment, as in demo.test.mjs, plus:
//   ORRERY_E2E_REVIEWER  username:password of a user with no workspace, whom the test adds
//                        to the demo workspace as an admin so that they can approve.
// A webhook receiver runs inside this process on 127.0.0.1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const baseUrl = process.env.ORRERY_E2E_URL ?? 'http://127.0.0.1:3217';
const demoPassword = process.env.ORRERY_E2E_DEMO_PASSWORD;
const [reviewerName, reviewerPassword] = (process.env.ORRERY_E2E_REVIEWER ?? 'reviewer:reviewer-password').split(':');
const screenshots = new URL('../test-results/', import.meta.url).pathname;
const model = 'nyc-flights-delay';
const secret = 'e2e-webhook-secret-0123456789';

let browser;
const pageErrors = [];
const received = [];
let receiver;

before(async () => {
  assert.ok(demoPassword, 'set ORRERY_E2E_DEMO_PASSWORD to the demo user password');
  mkdirSync(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
  receiver = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  assert.deepEqual(pageErrors, [], 'no page threw an error');
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

async function login(page, username, password) {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

async function shot(page, name) {
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage: true });
}

/** Submits a form with a click and waits for the page it redirects to. */
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
  await hydrated(page);
}

test('the demo training run is searchable and linked to its registered version', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/w/demo/projects`);
  await hydrated(page);
  await shot(page, 'projects');
  await Promise.all([page.waitForNavigation(), page.click(`[data-testid=projects] a:text-is("${model}")`)]);
  await hydrated(page);
  assert.match(await page.innerText('[data-testid=runs]'), /hgb-jan-mar/);

  // The demo logs max_iter=200 (demo-data/README.md), so this filter keeps the run ...
  await page.fill('[data-testid=run-filter]', 'params.max_iter = "200" and metrics.training_accuracy > 0.5');
  await submit(page, 'form.filter-form button[type=submit]');
  assert.match(await page.innerText('[data-testid=runs]'), /hgb-jan-mar/);
  await shot(page, 'runs-filtered');
  // ... and an accuracy above 1 matches nothing.
  await page.fill('[data-testid=run-filter]', 'metrics.training_accuracy > 1');
  await submit(page, 'form.filter-form button[type=submit]');
  assert.match(await page.innerText('[data-testid=no-runs]'), /No run matches/);

  await page.goto(`${baseUrl}/w/demo/registry/${model}/versions/1`);
  await hydrated(page);
  await shot(page, 'registry-version');
  assert.match(await page.innerText('[data-testid=lineage-run]'), /hgb-jan-mar/);
  assert.match(await page.innerText('[data-testid=lineage]'), /nycflights13_jan_mar/);
  await page.click('[data-testid=lineage-run]');
  await page.waitForURL(/\/w\/demo\/runs\//);
  await hydrated(page);
  const params = await page.innerText('[data-testid=run-params]');
  assert.match(params, /max_iter\s+200/);
  assert.match(await page.innerText('main'), new RegExp(`${model} version 1`));
  await shot(page, 'run');
});

test('a promotion is requested, approved by a second user, moves the alias and reaches the webhook', async () => {
  const owner = await newPage();
  await login(owner, 'demo', demoPassword);

  // The owner makes the reviewer an admin and adds a webhook pointing at this process.
  await owner.goto(`${baseUrl}/w/demo/settings`);
  await hydrated(owner);
  await owner.fill('form[action="/w/demo/members"] input[name=username]', reviewerName);
  await owner.selectOption('form[action="/w/demo/members"] select[name=role]', 'admin');
  await submit(owner, 'form[action="/w/demo/members"] button[type=submit]');
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/orrery`;
  await owner.goto(`${baseUrl}/w/demo/webhooks`);
  await hydrated(owner);
  await owner.fill('[data-testid=webhook-form] input[name=url]', hookUrl);
  await owner.fill('[data-testid=webhook-form] input[name=secret]', secret);
  await submit(owner, '[data-testid=webhook-form] button[type=submit]');
  assert.match(await owner.innerText('[data-testid=webhooks]'), /127\.0\.0\.1/);

  // The owner asks to point @staging at version 1.
  await owner.goto(`${baseUrl}/w/demo/registry/${model}`);
  await hydrated(owner);
  await owner.fill('[data-testid=request-form] input[name=alias]', 'staging');
  await owner.selectOption('[data-testid=request-form] select[name=version]', '1');
  await owner.fill('[data-testid=request-form] textarea[name=comment]', 'Ready for the staging canary');
  await submit(owner, '[data-testid=request-form] button[type=submit]');
  assert.match(await owner.innerText('[data-testid=notice]'), /Promotion request #\d+ opened/);
  // The requester may not approve their own request under the default policy.
  assert.match(await owner.innerText('[data-testid=review-refusal]'), /your own request/);
  await shot(owner, 'promotion-requested');

  // The reviewer approves with one click.
  const reviewer = await newPage();
  await login(reviewer, reviewerName, reviewerPassword);
  await reviewer.goto(`${baseUrl}/w/demo/registry/${model}`);
  await hydrated(reviewer);
  const pending = reviewer.locator('.request[data-status=pending]');
  assert.equal(await pending.count(), 1);
  assert.match(await pending.innerText(), /move @staging to v1/);
  assert.match(await pending.innerText(), /Ready for the staging canary/);
  await shot(reviewer, 'promotion-pending');
  await reviewer.fill('.request[data-status=pending] input[name=comment]', 'Metrics checked');
  await submit(reviewer, '.request[data-status=pending] [data-testid=approve]');
  assert.match(await reviewer.innerText('[data-testid=notice]'), /alias now points at the requested version/);
  assert.match(await reviewer.innerText('[data-testid=aliases]'), /@staging → v1/);
  assert.match(await reviewer.innerText('[data-testid=alias-timeline]'), /@staging\s+v1/);
  const history = await reviewer.innerText('[data-testid=history]');
  assert.match(history, new RegExp(`${reviewerName} pointed @staging at v1 \\(request #\\d+\\)`));
  assert.match(history, new RegExp(`${reviewerName} approved moving @staging to v1`));
  assert.match(history, /demo asked to move @staging to v1/);
  await shot(reviewer, 'promotion-approved');

  // The webhook worker delivers request_created, request_approved and alias_moved.
  const deadline = Date.now() + 20_000;
  const kinds = () => received.map((delivery) => delivery.headers['x-orrery-event']);
  while (!['request_created', 'request_approved', 'alias_moved'].every((kind) => kinds().includes(kind)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(kinds().includes('alias_moved'), `webhook events received: ${kinds().join(', ')}`);
  for (const delivery of received) {
    // The signature is recomputed here with node's crypto from the raw body.
    const expected = 'sha256=' + createHmac('sha256', secret).update(delivery.body).digest('hex');
    assert.equal(delivery.headers['x-orrery-signature-256'], expected);
  }
  const moved = JSON.parse(received.find((delivery) => delivery.headers['x-orrery-event'] === 'alias_moved').body);
  assert.equal(moved.model, model);
  assert.equal(moved.alias, 'staging');
  assert.equal(moved.version, 1);
  assert.equal(moved.actor, reviewerName);

  await owner.goto(`${baseUrl}/w/demo/webhooks`);
  await hydrated(owner);
  assert.match(await owner.innerText('[data-testid=deliveries]'), /alias_moved\s+\S+\s+delivered/);
  await shot(owner, 'webhook-deliveries');
});
