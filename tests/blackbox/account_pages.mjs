// The account pages in a real browser (`make account-pages`): Debian's chromium, driven by
// playwright-core, on the real server (ALLOMEDIA_URL, ALLOMEDIA_LOG and MANAGER_TOKEN set by
// tests/blackbox/server.py). Accounts are made over the API; every link is read FROM THE MAIL
// the server wrote to its log, as its owner would click it.
//
//   - verification: a plain GET of the link (a mail scanner) spends nothing (the API still
//     says unverified); the page in French, the button pressed, the French success page; the
//     same link again says it was already used; the address signs in.
//   - reset: the link from the "forgot" mail; a weak password → the error next to its field,
//     nothing echoed; a good one → the success page; the old password fails, the new one
//     signs in (202: the second factor is asked for).
//   - the same pages in English (the link's `lang`), the broken-link page in both languages.
// Every page must load nothing else (no asset, no script), break no CSP rule (a violation is
// a console error), fit a phone's width, and have its labels tied to its inputs.
// Screenshots of each page go to the folder given (not committed).
// Usage: node account_pages.mjs SCREENSHOT_DIR

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.ALLOMEDIA_URL;
const log = process.env.ALLOMEDIA_LOG;
const managerToken = process.env.MANAGER_TOKEN;
const shots = process.argv[2];
if (!base || !log || !managerToken || !shots) {
  console.error('usage: (through tests/blackbox/server.py) node account_pages.mjs SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const STEP_TIMEOUT_MS = 15_000;
const MAIL_DEADLINE_MS = 10_000;
const PASSWORD = 'citron-vapeur-falaise-17';
const NEW_PASSWORD = 'horloge-sable-rivière-93';
const WEAK_PASSWORD = 'zq7xw';

function fail(message) {
  throw new Error(message);
}

async function api(method, path, body, headers = {}) {
  const answer = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

// The mails to `email` in the server's log (the console transport writes one event per mail).
function mailsTo(email) {
  return readFileSync(log, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try { return [JSON.parse(line)]; } catch { return []; }
    })
    .filter((event) => 'mail_kind' in event)
    .map((event) => event.message ?? '')
    .filter((message) => message.split('\n', 1)[0].toLowerCase().includes(`<${email.toLowerCase()}>`));
}

// The first link to `page` in a mail to `email` after the first `after` mails.
async function linkFromMail(email, page, after) {
  const pattern = new RegExp(`https?://[^\\s"<>]+/account/${page}\\?[^\\s"<>]+`);
  const deadline = Date.now() + MAIL_DEADLINE_MS;
  for (;;) {
    for (const mail of mailsTo(email).slice(after)) {
      const found = mail.match(pattern);
      if (found) return found[0].replaceAll('&amp;', '&');
    }
    if (Date.now() > deadline) fail(`no mail to ${email} with a link to /account/${page}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function register(email, language) {
  const answer = await api('POST', '/api/v1/auth/register',
    { name: 'Amina', email, password: PASSWORD }, { 'accept-language': language });
  if (answer.status !== 202) fail(`register answered ${answer.status}`);
}

async function isVerified(email) {
  const answer = await api('GET', `/api/v1/users?q=${encodeURIComponent(email)}`, undefined,
    { authorization: `Bearer ${managerToken}` });
  if (answer.status !== 200 || answer.body.items.length !== 1) fail(`user lookup answered ${answer.status}`);
  const verified = answer.body.items[0].email_verified;
  if (typeof verified !== 'boolean') fail('the user list does not say whether the address is verified');
  return verified;
}

async function loginStatus(email, password) {
  return (await api('POST', '/api/v1/auth/login', { email, password })).status;
}

// A mail scanner or link preview: fetches the link, follows nothing, presses nothing.
async function scannerFetch(link) {
  const answer = await fetch(link);
  await answer.text();
  if (answer.status !== 200) fail(`a plain GET of ${link} answered ${answer.status}`);
}

function inLanguage(link, lang) {
  const url = new URL(link);
  url.searchParams.set('lang', lang);
  return url.toString();
}

const WORDS = {
  fr: {
    verifyHeading: 'Confirmez votre adresse e-mail',
    verifyButton: 'Confirmer mon adresse',
    verified: 'Votre adresse est confirmée',
    spent: 'Ce lien ne fonctionne plus',
    alreadyUsed: 'déjà été utilisé',
    resetHeading: 'Choisissez un nouveau mot de passe',
    newPassword: 'Nouveau mot de passe',
    again: 'Nouveau mot de passe, une seconde fois',
    save: 'Enregistrer mon nouveau mot de passe',
    tooShort: 'Trop court',
    changed: 'Votre mot de passe est changé',
    broken: 'Ce lien est incomplet',
  },
  en: {
    verifyHeading: 'Confirm your email address',
    verifyButton: 'Confirm my address',
    verified: 'Your address is confirmed',
    spent: 'This link no longer works',
    alreadyUsed: 'already used',
    resetHeading: 'Choose a new password',
    newPassword: 'New password',
    again: 'New password, again',
    save: 'Save my new password',
    tooShort: 'Too short',
    changed: 'Your password is changed',
    broken: 'This link is incomplete',
  },
};

const userDataDir = mkdtempSync(join(tmpdir(), 'allomedia-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  // A phone: the pages must be readable at this width.
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 1,
  // The browser of a French-speaking customer.
  locale: 'fr-FR',
});
const problems = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('request', (request) => {
    if (!request.isNavigationRequest()) problems.push(`the page loaded ${request.url()}`);
  });
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText})`));
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx document; the pages that answer one ("link spent", "password
    // refused") are expected, and their statuses are checked where they are opened.
    const expectedStatus = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !expectedStatus.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });

  // Checks the page shown: its language, its one heading, nothing wider than the phone.
  async function shows(lang, heading, shot) {
    const html = page.locator('html');
    if ((await html.getAttribute('lang')) !== lang) fail(`expected a page in ${lang}, got ${await html.getAttribute('lang')}`);
    if ((await html.getAttribute('dir')) !== 'ltr') fail('the page has no dir');
    const headings = await page.getByRole('heading', { level: 1 }).allTextContents();
    if (headings.length !== 1 || headings[0] !== heading) fail(`expected the heading "${heading}", got ${JSON.stringify(headings)}`);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    if (!fits) fail(`"${heading}" is wider than a phone`);
    await page.screenshot({ path: join(shots, `${shot}-${lang}.png`), fullPage: true });
    console.log(`  ok  ${lang}: "${heading}" (${shot}-${lang}.png)`);
  }

  // Presses `button` and waits for the page its form answers with `status`.
  async function submit(button, status) {
    const [answer] = await Promise.all([page.waitForNavigation(), button.click()]);
    if (answer?.status() !== status) fail(`the form answered ${answer?.status()}, not ${status}`);
  }

  async function open(link) {
    const answer = await page.goto(link);
    if (!answer) fail(`no answer for ${link}`);
    const csp = answer.headers()['content-security-policy'] ?? '';
    if (!csp.startsWith("default-src 'none'")) fail(`the page's policy is "${csp}"`);
    if (answer.headers()['cache-control'] !== 'no-store') fail('the page may be cached');
    if (answer.headers()['referrer-policy'] !== 'no-referrer') fail('the page may leak its URL');
    return answer;
  }

  async function verifyJourney(lang, acceptLanguage) {
    const w = WORDS[lang];
    const email = `amina-${lang}-${Date.now()}@example.com`;
    await register(email, acceptLanguage);
    let link = await linkFromMail(email, 'verify-email', 0);
    if (lang !== 'fr') link = inLanguage(link, lang);

    await scannerFetch(link);
    await scannerFetch(link);
    if (await isVerified(email)) fail('a plain GET of the verification link verified the address');
    console.log(`  ok  ${lang}: two plain GETs of the mailed link spent nothing (the API says unverified)`);

    await open(link);
    await shows(lang, w.verifyHeading, 'verify');
    await submit(page.getByRole('button', { name: w.verifyButton }), 200);
    await shows(lang, w.verified, 'verify-done');
    if (!(await isVerified(email))) fail('pressing the button did not verify the address');
    if ((await loginStatus(email, PASSWORD)) !== 202) fail('the verified address cannot sign in');

    await open(link);
    await submit(page.getByRole('button', { name: w.verifyButton }), 400);
    if (!(await page.textContent('main')).includes(w.alreadyUsed)) fail('the spent link does not say it was used');
    await shows(lang, w.spent, 'verify-spent');
    return email;
  }

  async function resetJourney(lang, email) {
    const w = WORDS[lang];
    const before = mailsTo(email).length;
    const forgot = await api('POST', '/api/v1/auth/password/forgot', { email });
    if (forgot.status !== 202) fail(`forgot answered ${forgot.status}`);
    let link = await linkFromMail(email, 'reset-password', before);
    if (lang !== 'fr') link = inLanguage(link, lang);
    await scannerFetch(link);

    await open(link);
    await shows(lang, w.resetHeading, 'reset');
    await page.getByLabel(w.newPassword, { exact: true }).fill(WEAK_PASSWORD);
    await page.getByLabel(w.again, { exact: true }).fill(WEAK_PASSWORD);
    await submit(page.getByRole('button', { name: w.save }), 422);
    const field = page.getByLabel(w.newPassword, { exact: true });
    if ((await field.getAttribute('aria-invalid')) !== 'true') fail('the refused field is not marked invalid');
    const error = page.locator('#new_password-error');
    if (!(await error.textContent()).startsWith(w.tooShort)) fail(`the error says "${await error.textContent()}"`);
    if (!(await field.getAttribute('aria-describedby')).includes('new_password-error')) fail('the error is not tied to its field');
    if ((await field.inputValue()) !== '' || (await page.content()).includes(WEAK_PASSWORD)) fail('the typed password was sent back');
    if (!(await field.evaluate((input) => input === document.activeElement))) fail('the refused field does not have the focus');
    await shows(lang, w.resetHeading, 'reset-error');

    await page.getByLabel(w.newPassword, { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel(w.again, { exact: true }).fill(NEW_PASSWORD);
    await submit(page.getByRole('button', { name: w.save }), 200);
    await shows(lang, w.changed, 'reset-done');

    const old = await loginStatus(email, PASSWORD);
    if (old !== 401) fail(`the old password answered ${old}`);
    const fresh = await loginStatus(email, NEW_PASSWORD);
    if (fresh !== 202) fail(`the new password answered ${fresh}`);
    console.log(`  ok  ${lang}: the old password fails (401), the new one signs in (202, second factor)`);
  }

  const french = await verifyJourney('fr', 'fr');
  await resetJourney('fr', french);
  const english = await verifyJourney('en', 'en');
  await resetJourney('en', english);
  for (const lang of ['fr', 'en']) {
    await open(`${base}/account/verify-email?lang=${lang}`);
    await shows(lang, WORDS[lang].broken, 'link-broken');
  }

  if (problems.length > 0) fail(`the pages had problems:\n  ${problems.join('\n  ')}`);
  console.log('account pages: every page in French and English, tokens spent only by a press');
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
