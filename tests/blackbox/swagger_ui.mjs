// Swagger UI in a real browser (`make browser`): Debian's chromium, driven by playwright-core,
// opens /docs of the real server (ALLOMEDIA_URL, set by tests/blackbox/server.py), checks that
// the page lists every tag of /openapi.json, runs "Try it out" → "Execute" on the public
// product list and reads a 200 in the page. It fails on a blank page, on any request of the
// page that did not load (the machine is offline: an asset from elsewhere would fail here
// and for users behind a firewall), on a script error, and on any step it could not do.
// Usage: node swagger_ui.mjs SCREENSHOT.png

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.ALLOMEDIA_URL;
const screenshot = process.argv[2];
if (!base || !screenshot) {
  console.error('usage: ALLOMEDIA_URL=http://127.0.0.1:PORT node swagger_ui.mjs SCREENSHOT.png');
  process.exit(2);
}
const STEP_TIMEOUT_MS = 15_000;

const spec = await (await fetch(`${base}/openapi.json`)).json();
// A product for the page to list, added by the manager server.py signed in.
const PRODUCT = 'Pastilla au poulet';
const created = await fetch(`${base}/api/v1/products`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.MANAGER_TOKEN}` },
  body: JSON.stringify({ name: PRODUCT, price_cents: 12000, available: true }),
});
if (created.status !== 201) throw new Error(`creating the product answered ${created.status}`);
const tags = (spec.tags ?? []).map((tag) => tag.name);
if (tags.length === 0) throw new Error('the spec lists no tags');

const userDataDir = mkdtempSync(join(tmpdir(), 'allomedia-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 1600 },
});
const problems = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    // The one request allowed to answer an error is none: the page and its assets must load,
    // and the executed call must answer 200 (checked below as well).
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });

  const answer = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
  if (answer?.status() !== 200) throw new Error(`/docs answered ${answer?.status()}`);
  await page.waitForSelector('.swagger-ui .info .title');
  const title = (await page.textContent('.swagger-ui .info .title'))?.trim() ?? '';
  if (!title.startsWith(spec.info.title)) throw new Error(`the page shows the title "${title}"`);

  // Every tag of the spec is a section of the page.
  const shown = await page.$$eval('.opblock-tag-section .opblock-tag', (nodes) =>
    nodes.map((node) => node.getAttribute('data-tag')));
  const missing = tags.filter((tag) => !shown.includes(tag));
  if (missing.length > 0) throw new Error(`tags missing from the page: ${missing.join(', ')} (shown: ${shown.join(', ')})`);
  console.log(`  ok  /docs lists every tag of the spec: ${tags.join(', ')}`);

  // Try it out on GET /api/v1/products.
  const operation = page.locator('#operations-Products-list_products');
  if (!(await operation.isVisible())) await page.click('.opblock-tag[data-tag="Products"]');
  await operation.locator('.opblock-summary').click();
  await operation.locator('button.try-out__btn').click();
  await operation.locator('button.execute').click();
  const status = operation.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  const shownStatus = (await status.textContent())?.trim();
  if (shownStatus !== '200') throw new Error(`Execute showed status "${shownStatus}", not 200`);
  const body = (await operation.locator('.live-responses-table tbody .response-col_description pre').first().textContent()) ?? '';
  if (!body.includes(PRODUCT)) throw new Error(`Execute showed no "${PRODUCT}": ${body.slice(0, 200)}`);
  console.log(`  ok  Try it out → Execute on GET /api/v1/products shows 200 and lists "${PRODUCT}"`);

  await status.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`  ok  screenshot: ${screenshot}`);
  // Anything still in flight or late must have loaded too.
  await page.waitForLoadState('networkidle');
} catch (error) {
  problems.push(`step failed: ${error.message}`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`swagger-ui FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('swagger-ui: the page loaded whole, offline, and its console ran a real request');
