// End-to-end tests of the demo in Debian's Chromium, driven by Playwright.
//
// scripts/test.sh starts `orrery serve --demo` with a known demo password and a second user,
// then runs this file with node's test runner. Settings come from the environment:
//   ORRERY_E2E_URL            server address, such as http://127.0.0.1:3217
//   ORRERY_E2E_DEMO_PASSWORD  password of the `demo` user
//   ORRERY_E2E_MEMBER         username:password of a user outside the demo workspace
// Screenshots of every page land in end2end/test-results/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const baseUrl = process.env.ORRERY_E2E_URL ?? 'http://127.0.0.1:3217';
const demoPassword = process.env.ORRERY_E2E_DEMO_PASSWORD;
const [memberName, memberPassword] = (process.env.ORRERY_E2E_MEMBER ?? 'analyst:analyst-password').split(':');
const screenshots = new URL('../test-results/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(new URL('../../tests/fixtures/golden/golden_us_census_ma_employment_2015_vs_2018.json', import.meta.url)));
const censusDrift = '/w/demo/models/us-census-employment';

let browser;
const pageErrors = [];

before(async () => {
  assert.ok(demoPassword, 'set ORRERY_E2E_DEMO_PASSWORD to the demo user password');
  mkdirSync(screenshots, { recursive: true });
  // Without the background-networking flags Chromium keeps trying to reach Google's hosts.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  assert.deepEqual(pageErrors, [], 'no page threw an error');
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

/** Waits until the wasm bundle has attached event handlers; a click before that is lost. */
async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

async function login(page, username, password) {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

// A full-page screenshot resizes the viewport for a moment, which moves elements under the
// pointer. Pass fullPage: false while a mouse button is held.
async function shot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage });
}

async function driftRows(page) {
  return page.$$eval('[data-testid=drift-table] tbody tr', (rows) => rows.map((row) => ({
    column: row.dataset.column,
    value: row.querySelector('[data-testid=drift-value]').dataset.value,
    text: row.innerText,
  })));
}

test('demo drift page shows the golden values', async () => {
  const page = await newPage();
  await page.goto(`${baseUrl}/login`);
  await shot(page, 'login');
  await login(page, 'demo', demoPassword);
  assert.equal(new URL(page.url()).pathname, '/w/demo');
  await hydrated(page);
  await shot(page, 'workspace');

  await page.click('a:has-text("us-census-employment")');
  await page.waitForSelector('[data-testid=drift-table]');
  await hydrated(page);
  await shot(page, 'drift-overview');

  const rows = await driftRows(page);
  assert.equal(rows.length, 19);
  assert.deepEqual(rows.slice(0, 3).map((row) => row.column), ['ANC', 'AGEP', 'SCHL']);
  for (const row of rows) {
    const expected = golden.columns[row.column].default.scipy_value;
    const actual = Number(row.value);
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${row.column}: ${actual} vs golden ${expected}`);
  }
  assert.match(await page.innerText('[data-testid=drift-summary]'), /0 of 19 compared columns drift.*68,785 rows.*2017-12-03 to 2018-01-01 \(70,131 rows\)/s);
});

test('the data-quality tab checks every column', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/w/demo/models/nyc-flights-delay`);
  await hydrated(page);
  await Promise.all([page.waitForURL(/\/quality\?/), page.click('a.tab:has-text("Data quality")')]);
  await page.waitForSelector('[data-testid=quality-table]');
  await shot(page, 'data-quality');

  const columns = await page.$$eval('[data-testid=quality-table] tbody tr', (rows) => rows.map((row) => row.dataset.column));
  assert.equal(columns.length, 11);
  // The latest version (v2) and its last 30 production days are the default view.
  assert.match(page.url(), /version=v2&baseline=training&from=2013-12-03&to=2014-01-01/);
  assert.match(await page.innerText('[data-testid=quality-volume]'), /rows/);
});

test('the overview summarises health and a trailing baseline is kept in the link', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/w/demo/models/nyc-flights-delay`);
  await hydrated(page);
  await Promise.all([page.waitForURL(/\/overview\?/), page.click('a.tab:has-text("Overview")')]);
  await page.waitForSelector('[data-testid=overview-volume]');
  for (const card of ['overview-drift', 'overview-quality', 'overview-performance', 'overview-volume']) {
    assert.ok(await page.isVisible(`[data-testid=${card}]`), `${card} is shown`);
  }
  assert.match(await page.innerText('[data-testid=overview-main-metric]'), /^Accuracy \d\.\d{4}$/);
  await shot(page, 'overview');

  // Pick a trailing baseline in the controls: the day field appears, and the link keeps it.
  await page.selectOption('select[name=baseline]', 'trailing');
  assert.ok(await page.isVisible('input[name=baseline_days]'), 'the days field shows for a trailing baseline');
  await page.fill('input[name=baseline_days]', '7');
  await Promise.all([page.waitForURL(/baseline=trailing/), page.click('[data-testid=view-controls] button[type=submit]')]);
  assert.match(page.url(), /baseline_days=7/);
  await page.waitForSelector('[data-testid=drift-summary]:has-text("7 days before the window")');
  assert.match(await page.innerText('[data-testid=drift-summary]'), /production data of the 7 days before the window/);
  assert.ok(await page.isVisible('[data-testid=save-baseline]'), 'a member may save it as the default');
});

test('the performance tab compares metrics with the baseline', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}${censusDrift}/performance?version=v1&baseline=training&from=2018-01-01&to=2018-01-01`);
  await page.waitForSelector('[data-testid=metrics-table]');
  await hydrated(page);
  await shot(page, 'performance');

  // scikit-learn 1.9.1 accuracy_score of employed against prediction: 2015 and 2018.
  const accuracy = await page.$$eval('tr[data-metric="Accuracy"] td[data-value]', (cells) => cells.map((cell) => Number(cell.dataset.value)));
  assert.ok(Math.abs(accuracy[0] - 0.8271570836664971) < 1e-9, `baseline accuracy ${accuracy[0]}`);
  assert.ok(Math.abs(accuracy[1] - 0.828221471246667) < 1e-9, `current accuracy ${accuracy[1]}`);
  const matrix = await page.innerText('[data-testid=confusion-matrix]');
  assert.match(matrix, /0\s+1/);

  // scikit-learn 1.9.1 precision_recall_fscore_support(employed, prediction) for label 1:
  // precision, recall and F1 in 2015, then in 2018.
  const employed = await page.$$eval('[data-testid=per-class] tr[data-class="1"] td[data-value]', (cells) => cells.map((cell) => Number(cell.dataset.value)));
  const expected = [0.8000432163790077, 0.8684688911042046, 0.8328529854208551, 0.8107964366440633, 0.8607644966405059, 0.8350336177030413];
  assert.equal(employed.length, expected.length, `per-class cells ${employed}`);
  expected.forEach((value, index) => assert.ok(Math.abs(employed[index] - value) < 1e-9, `cell ${index}: ${employed[index]}, expected ${value}`));
  assert.match(await page.innerText('[data-testid=per-class] tr[data-class="1"]'), /34,106[\s\S]*35,422/);

  // scikit-learn 1.9.1 average_precision_score(employed, predicted_probability): 2015, 2018.
  const prAuc = await page.$$eval('tr[data-metric="PR AUC"] td[data-value]', (cells) => cells.map((cell) => Number(cell.dataset.value)));
  assert.ok(Math.abs(prAuc[0] - 0.8810599197026445) < 1e-9, `baseline PR AUC ${prAuc[0]}`);
  assert.ok(Math.abs(prAuc[1] - 0.8878536379228609) < 1e-9, `current PR AUC ${prAuc[1]}`);
  // calibration_curve(employed, predicted_probability, n_bins=10) on 2018, first bin:
  // positive share 0.012828056961280452 at mean score 0.014117454830441346.
  const firstBin = await page.$$eval('[data-testid=calibration] tbody tr:first-child td[data-value]', (cells) => cells.map((cell) => Number(cell.dataset.value)));
  assert.ok(Math.abs(firstBin[0] - 0.014117454830441346) < 1e-9, `mean score ${firstBin[0]}`);
  assert.ok(Math.abs(firstBin[1] - 0.012828056961280452) < 1e-9, `positive share ${firstBin[1]}`);
});

test('the segments tab ranks segments and a segment narrows the drift tab', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}${censusDrift}/segments?version=v1&baseline=training&from=2018-01-01&to=2018-01-01&by=SEX`);
  await page.waitForSelector('[data-testid=segments-by-drop]');
  await hydrated(page);
  await shot(page, 'segments');

  // scikit-learn 1.9.1 accuracy_score(employed, prediction) on the rows with SEX "2":
  // 2015 (the training baseline), then 2018.
  const women = 'tr[data-segment=\'SEX = "2"\']';
  const accuracy = await page.$$eval(`[data-testid=segments-by-drop] ${women} td[data-value]`, (cells) => cells.map((cell) => Number(cell.dataset.value)));
  assert.ok(Math.abs(accuracy[0] - 0.8093917234036592) < 1e-9, `baseline accuracy ${accuracy[0]}`);
  assert.ok(Math.abs(accuracy[1] - 0.8126672367658824) < 1e-9, `current accuracy ${accuracy[1]}`);
  assert.match(await page.innerText(`[data-testid=segments-by-drop] ${women}`), /35,691\s+36,251/);

  await Promise.all([page.waitForURL(/segment=/), page.click(`[data-testid=segments-by-drop] ${women} td.links a:first-child`)]);
  await page.waitForSelector('[data-testid=drift-table]');
  assert.equal(await page.innerText('[data-testid=segment-summary]'), 'SEX = "2"');
  assert.match(await page.innerText('[data-testid=drift-summary]'), /\(35,691 rows\)[\s\S]*\(36,251 rows\)/);

  // A segment typed into the field is applied and kept in the link.
  await hydrated(page);
  await page.fill('[data-testid=segment]', 'SEX = 2 and AGEP >= 65');
  await Promise.all([page.waitForURL(/AGEP/), page.click('[data-testid=view-controls] button[type=submit]')]);
  await page.waitForSelector('[data-testid=segment-summary]');
  assert.equal(await page.innerText('[data-testid=segment-summary]'), 'SEX = 2 and AGEP >= 65');
  await shot(page, 'segment-drift');
});

test('dragging across days of a chart makes them the window', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}${censusDrift}/performance?version=v1&baseline=training&from=2018-01-01&to=2018-01-01`);
  await page.waitForSelector('.chart-target[data-day="2016-01-01"]');
  await hydrated(page);

  await page.hover('.chart-target[data-day="2016-01-01"]');
  await page.mouse.down();
  await page.hover('.chart-target[data-day="2017-01-01"]');
  assert.equal(await page.locator('.chart-brush').count(), 1, 'the dragged days are shaded');
  await shot(page, 'chart-brush', { fullPage: false });
  await Promise.all([page.waitForURL(/from=2016-01-01&to=2017-01-01/), page.mouse.up()]);

  await page.waitForSelector('[data-testid=drift-summary]:has-text("2016-01-01 to 2017-01-01")');
  assert.match(page.url(), /version=v1/, 'the other view settings stay');
  assert.match(page.url(), /baseline=training/);
});

test('the versions tab compares a retrained version with the first on the same days', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/w/demo/models/nyc-flights-delay/versions?version=v2&baseline=training&from=2013-07-02&to=2014-01-01&compare=v1`);
  await page.waitForSelector('[data-testid=version-metrics]');
  await hydrated(page);
  await shot(page, 'versions');

  // scikit-learn 1.9.1 accuracy_score(delayed, y_pred) on the flights whose UTC day is
  // 2013-07-02 to 2014-01-01: v2, then v1. (The window starts on July 2 because July 1 UTC
  // also contains June 30 evening flights, which only v1 scored.)
  const accuracy = await page.$$eval('[data-testid=version-metrics] tr[data-metric="Accuracy"] td[data-value]', (cells) => cells.map((cell) => Number(cell.dataset.value)));
  assert.ok(Math.abs(accuracy[0] - 0.8999168033182213) < 1e-9, `v2 accuracy ${accuracy[0]}`);
  assert.ok(Math.abs(accuracy[1] - 0.9002966142567763) < 1e-9, `v1 accuracy ${accuracy[1]}`);
  assert.match(await page.innerText('[data-testid=version-rows] tr[data-version="v1"]'), /77,911\s+165,872/);
  assert.match(await page.innerText('[data-testid=version-rows] tr[data-version="v2"]'), /82,767\s+165,872/);
  // Both versions scored the same flights, so their inputs do not drift against each other.
  assert.match(await page.innerText('[data-testid=version-columns] tr[data-column="distance"]'), /OK/);
});

test('hovering a histogram bar shows its counts and shares', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}${censusDrift}/features/AGEP`);
  await hydrated(page);

  await page.hover('.chart-target[data-index="0"]');
  const tooltip = await page.waitForSelector('.chart-tooltip', { timeout: 5_000 });
  const text = await tooltip.innerText();
  await shot(page, 'feature-histogram-tooltip');

  // The first Sturges bin of AGEP is [0, 5); its shares are in the golden file's PSI binning.
  const binning = golden.columns.AGEP.stats.psi.binning;
  assert.match(text, /^0–5/);
  assert.match(text, new RegExp(`reference: \\d+ rows \\(${(binning.ref_share[0] * 100).toFixed(2)}%\\)`));
  assert.match(text, new RegExp(`current: \\d+ rows \\(${(binning.cur_share[0] * 100).toFixed(2)}%\\)`));

  const points = await page.$$('.chart:nth-of-type(2) .chart-target');
  assert.equal(points.length, 3, 'one drift point per production year: 2016, 2017, 2018');
  await points[2].hover();
  const pointText = await page.innerText('.chart-tooltip');
  assert.match(pointText, /^2018/);
  assert.match(pointText, /Wasserstein distance \(normed\): 0\.0238/);
  await shot(page, 'feature-drift-tooltip');
});

test('a copied link opens the same view for another member', async () => {
  const owner = await newPage();
  await login(owner, 'demo', demoPassword);

  await owner.goto(`${baseUrl}/w/demo/settings`);
  await hydrated(owner);
  await owner.fill('form[action="/w/demo/members"] input[name=username]', memberName);
  await owner.selectOption('form[action="/w/demo/members"] select[name=role]', 'viewer');
  await Promise.all([owner.waitForURL(/\/w\/demo\/settings$/), owner.click('button:has-text("Add member")')]);
  assert.match(await owner.innerText('table.data'), new RegExp(memberName));
  await shot(owner, 'members');

  await owner.goto(`${baseUrl}${censusDrift}`);
  await hydrated(owner);
  await owner.fill('input[name=from]', '2016-01-01');
  await owner.fill('input[name=to]', '2017-12-31');
  await Promise.all([owner.waitForURL(/from=2016-01-01/), owner.click('button:has-text("Apply")')]);
  await owner.waitForSelector('[data-testid=drift-table]');
  const copiedUrl = owner.url();
  const ownerRows = await driftRows(owner);
  const ownerSummary = await owner.innerText('[data-testid=drift-summary]');
  assert.match(copiedUrl, /version=v1/);
  assert.match(copiedUrl, /baseline=training/);
  assert.match(ownerSummary, /2016-01-01 to 2017-12-31 \(138,761 rows\)/);

  const member = await newPage();
  await login(member, memberName, memberPassword);
  await member.goto(copiedUrl);
  await member.waitForSelector('[data-testid=drift-table]');
  await hydrated(member);
  await shot(member, 'shared-link-member');

  assert.deepEqual(await driftRows(member), ownerRows);
  assert.equal(await member.innerText('[data-testid=drift-summary]'), ownerSummary);
});

test('an API token is shown once after it is created', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/account/tokens`);
  await hydrated(page);
  await page.fill('input[name=name]', 'e2e-pipeline');
  await Promise.all([page.waitForURL(/\/account\/tokens$/), page.click('button:has-text("Create token")')]);

  const secret = await page.innerText('[data-testid=new-token] code');
  assert.match(secret, /^orr_[0-9a-f]{64}$/);
  await shot(page, 'tokens');
  await page.reload();
  assert.equal(await page.$('[data-testid=new-token]'), null);
  assert.match(await page.innerText('table.data'), /e2e-pipeline/);
});

test('a model created and filled through the forms shows its drift', async () => {
  const page = await newPage();
  await login(page, 'demo', demoPassword);
  await page.goto(`${baseUrl}/w/demo`);
  await hydrated(page);

  await page.click('summary:has-text("Create a model")');
  const form = 'form[action="/w/demo/models"]';
  await page.fill(`${form} input[name=name]`, 'e2e-churn');
  await page.fill(`${form} input[name=id_column]`, 'id');
  await page.fill(`${form} input[name=timestamp_column]`, 'ts');
  await page.fill(`${form} input[name=numeric_features]`, 'age');
  await page.fill(`${form} input[name=categorical_features]`, 'plan');
  await page.fill(`${form} input[name=prediction]`, 'pred');
  await page.fill(`${form} [data-testid=drift-overrides]`, 'plan: psi 0.3');
  await shot(page, 'create-model-form');
  await Promise.all([page.waitForURL(/\/w\/demo$/), page.click(`${form} button[type=submit]`)]);
  const row = page.locator('tr', { has: page.locator('a:has-text("e2e-churn")') });
  assert.equal(await row.count(), 1);

  const upload = async (environment, csv, skipBadRows) => {
    await page.goto(`${baseUrl}/w/demo`);
    await hydrated(page);
    const modelRow = page.locator('tr', { has: page.locator('a:has-text("e2e-churn")') });
    await modelRow.locator('summary:has-text("Upload data")').click();
    await modelRow.locator('select[name=environment]').selectOption(environment);
    if (skipBadRows) await modelRow.locator('input[name=skip_bad_rows]').check();
    await modelRow.locator('input[type=file]').setInputFiles({ name: `${environment}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await Promise.all([page.waitForNavigation(), modelRow.locator('button:has-text("Upload")').click()]);
  };

  const training = 'id,ts,age,plan,pred\n1,2024-01-01,30,basic,0\n2,2024-01-01,41,pro,1\n3,2024-01-02,25,basic,0\n4,2024-01-02,52,pro,1\n';
  await upload('training', training, false);
  assert.match(page.url(), /\/w\/demo\/models\/e2e-churn\?version=v1/);

  const production = 'id,ts,age,plan,pred\n5,2024-02-01,33,basic,0\n6,2024-02-01,forty,pro,1\n7,2024-02-02,61,pro,1\n';
  await upload('production', production, false);
  const error = await page.innerText('.form-error');
  await shot(page, 'upload-bad-row');
  assert.match(error, /row 2, column "age"/);
  assert.match(error, /forty/);

  await upload('production', production, true);
  await page.waitForSelector('[data-testid=drift-table]');
  await hydrated(page);
  assert.match(await page.innerText('[data-testid=notice]'), /Stored 2 rows from production\.csv.*Skipped 1 bad row, such as: row 2, column "age"/s);
  await shot(page, 'uploaded-model-drift');
  const rows = await driftRows(page);
  assert.deepEqual(rows.map((r) => r.column).sort(), ['age', 'plan', 'pred']);
  // Four reference rows: Evidently's small-sample rules pick K-S for numbers, chi-square
  // for three or more categories, and the z-test for two.
  assert.match(rows.find((r) => r.column === 'age').text, /K-S p_value/);
  // The form's override replaces the z-test with PSI at threshold 0.3.
  assert.match(rows.find((r) => r.column === 'plan').text, /PSI\s+\S+\s+0\.3000/);
  assert.match(await page.innerText('[data-testid=drift-summary]'), /\(2 rows\)/);
});
