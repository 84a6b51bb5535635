#!/usr/bin/env node
// Drives the built example page in Debian's chromium with playwright-core (no browser
// download), for app/example_web_test.go, which starts the issuer and the API, creates
// the data, serves the page, and plays the other party. Every request to a host other
// than loopback is blocked and fails the run.
//
//   PAGE_URL        the page, with ?api=...&issuer=... (required)
//   API_URL         the GraphQL endpoint over HTTP (required)
//   SIGN_IN_SUB     the identity to pick on the sign-in screen (required)
//   EXPECT_VIEWER   text the signed-in header must contain
//   EXPECT_WAITING  the "waiting on me" count, and as many rows in the list (required)
//   CASE_ID         the case to open; it must be the list's first row (soonest deadline)
//   ACTION          the button to press (default RESPOND); MESSAGE the text to send
//   STATUS_AFTER    the case's status once the action is done
//   OTHER_MESSAGE   the other party's message: once the page has acted the script prints
//                   ACTED on stdout; the driver then acts as the other party, and the
//                   page's timeline must show that message live, without a reload
//   STATUS_LIVE     the status the page must show after the other party's event
//   DENIED_URL      a page on an origin the API does not allow: a request from it
//                   must be refused (CORS), over fetch
//   TRUSTED         "1": the page was opened with trusted=1: no document text may leave
//                   it, only IDs (over HTTP and in the WebSocket's subscribe messages)
//   CHROMIUM        the browser (default /usr/bin/chromium); TIMEOUT_MS (default 30000)
//   ARTIFACTS_DIR   where a failure screenshot goes (default: the OS temp dir)
//
// Prints "1 passed, 0 failed" and exits 0, or "FAIL: ..." and "0 passed, 1 failed" and 1.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const TIMEOUT = Number(env.TIMEOUT_MS || 30000);
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const log = (...a) => console.error('[web-e2e]', ...a);

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const k of ['PAGE_URL', 'API_URL', 'SIGN_IN_SUB', 'EXPECT_WAITING']) if (!env[k]) fail(`${k} is not set`);
if (!fs.existsSync(CHROMIUM)) fail(`no browser at ${CHROMIUM}: apt-get install -y chromium (never a downloaded one)`);

const pageURL = new URL(env.PAGE_URL);
const apiURL = new URL(env.API_URL);

function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
const offHost = [];
const pageErrors = [];
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-e2e-profile-'));
let context;
let page;

async function text(testid) {
  const el = page.locator(`[data-testid="${testid}"]`).first();
  return (await el.count()) ? (await el.textContent()) ?? '' : '';
}
async function waitText(testid, want, what) {
  try {
    await page.waitForFunction(
      ([id, w]) => {
        const el = document.querySelector(`[data-testid="${id}"]`);
        return !!el && el.textContent.trim() === w;
      },
      [testid, want],
      { timeout: TIMEOUT, polling: 50 },
    );
  } catch {
    throw new Error(`${what}: [data-testid=${testid}] shows ${JSON.stringify(await text(testid))}, want ${JSON.stringify(want)} (error banner: ${JSON.stringify(await text('error'))})`);
  }
}
async function waitEvent(containing, what) {
  try {
    await page.waitForFunction(
      (w) => [...document.querySelectorAll('[data-testid="event"]')].some((li) => li.textContent.includes(w)),
      containing,
      { timeout: TIMEOUT, polling: 50 },
    );
  } catch {
    const events = await page.locator('[data-testid="event"]').allTextContents();
    throw new Error(`${what}: no timeline event contains ${JSON.stringify(containing)}; the timeline:\n  ${events.join('\n  ')}\n(error banner: ${JSON.stringify(await text('error'))})`);
  }
}

async function openAndAct(rows) {
  if (rows[0] !== env.CASE_ID) throw new Error(`the first row (soonest deadline) is ${rows[0]}, want ${env.CASE_ID}`);

  // Open the case; from now on the page must never reload.
  await page.evaluate(() => (window.__e2eMarker = 'same-document'));
  await page.locator(`[data-testid="case-row"][data-id="${env.CASE_ID}"]`).click();
  await page.locator(`[data-testid="case"][data-id="${env.CASE_ID}"]`).waitFor({ timeout: TIMEOUT });
  await page.locator('[data-testid="event"]').first().waitFor({ timeout: TIMEOUT });
  await waitText('socket', 'live', 'the subscription\'s socket');

  // Act.
  const action = env.ACTION || 'RESPOND';
  const button = page.locator(`[data-testid="action-${action}"]`);
  if (!(await button.count())) throw new Error(`no ${action} button; the page offers: ${await page.locator('.actions').textContent()}`);
  if (env.MESSAGE) await page.locator('[data-testid="message"]').fill(env.MESSAGE);
  await button.click();
  if (env.MESSAGE) await waitEvent(env.MESSAGE, 'after acting');
  if (env.STATUS_AFTER) await waitText('case-status', env.STATUS_AFTER, 'the case after acting');
  log(`acted: ${action}`);

  if (env.OTHER_MESSAGE) {
    const before = await page.locator('[data-testid="event"]').count();
    console.log('ACTED');
    await waitEvent(env.OTHER_MESSAGE, 'the other party\'s event, live');
    const live = await page.locator('[data-testid="event"].live').allTextContents();
    if (!live.some((t) => t.includes(env.OTHER_MESSAGE))) throw new Error('the other party\'s event is not marked as arrived live');
    if (env.STATUS_LIVE) await waitText('case-status', env.STATUS_LIVE, 'the case after the other party\'s event');
    const after = await page.locator('[data-testid="event"]').count();
    if (after !== before + 1) throw new Error(`the timeline went from ${before} to ${after} events, want one more`);
    log('the other party\'s event arrived live');
  }
  if ((await page.evaluate(() => window.__e2eMarker)) !== 'same-document') throw new Error('the page reloaded');
}

async function main() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
    serviceWorkers: 'block',
  });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || isLoopback(u.hostname)) return route.continue();
    offHost.push(`${route.request().method()} ${u.href}`);
    return route.abort('blockedbyclient');
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(`${e.message}\n${e.stack}`));
  page.on('console', (m) => m.type() === 'error' && log(`console error: ${m.text().slice(0, 300)}`));

  // Every API answer the page got must carry its CORS approval (the page is on another
  // origin than the API): cross-origin for real.
  const apiAnswers = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.host === apiURL.host && u.pathname === apiURL.pathname) {
      const h = r.headers();
      apiAnswers.push({ method: r.request().method(), status: r.status(), acao: h['access-control-allow-origin'], type: h['content-type'] || '' });
    }
  });
  // The subscription's socket: its URL, and the token in connection_init (not the URL).
  let socketURL = '';
  let initCarriedToken = false;
  // With trusted documents, what the page sent: document text (must be none) and IDs.
  const sentText = [];
  let sentByID = 0;
  const checkSent = (where, body) => {
    const ext = body && body.extensions && body.extensions.persistedQuery;
    if (body && body.query) sentText.push(`${where}: ${String(body.query).slice(0, 80)}`);
    else if (ext && ext.sha256Hash) sentByID++;
  };
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'POST' && u.host === apiURL.host && u.pathname === apiURL.pathname) checkSent('POST', r.postDataJSON());
  });
  page.on('websocket', (ws) => {
    const u = new URL(ws.url());
    if (!isLoopback(u.hostname)) offHost.push(`WebSocket ${ws.url()}`);
    if (u.host !== apiURL.host) return; // e.g. Vite's own (hot reload) socket
    socketURL = ws.url();
    ws.on('framesent', (f) => {
      const p = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      if (/"type"\s*:\s*"connection_init"/.test(p) && /Bearer ey/.test(p)) initCarriedToken = true;
      if (/"type"\s*:\s*"subscribe"/.test(p)) checkSent('subscribe', JSON.parse(p).payload);
    });
  });

  log(`opening ${pageURL.href}`);
  const resp = await page.goto(pageURL.href, { waitUntil: 'load', timeout: TIMEOUT });
  if (!resp || !resp.ok()) throw new Error(`GET ${pageURL.href} answered ${resp ? resp.status() : 'nothing'}`);

  // Sign in: the issuer lists its identities, the page gets a JWT for the one picked.
  const pick = page.locator(`[data-testid="identity"][data-sub="${env.SIGN_IN_SUB}"]`);
  try {
    await pick.waitFor({ timeout: TIMEOUT });
  } catch {
    throw new Error(`the sign-in screen offers no identity ${env.SIGN_IN_SUB} (error banner: ${JSON.stringify(await text('error'))})`);
  }
  await pick.click();
  await page.locator('[data-testid="viewer"]').waitFor({ timeout: TIMEOUT });
  const who = await text('viewer');
  if (env.EXPECT_VIEWER && !who.includes(env.EXPECT_VIEWER)) throw new Error(`signed in as ${JSON.stringify(who)}, want ${JSON.stringify(env.EXPECT_VIEWER)}`);
  log(`signed in: ${who}`);

  // Waiting on me: the summary's count, the list's totalCount, and its rows.
  const n = Number(env.EXPECT_WAITING);
  await waitText('waiting-count', String(n), 'the summary\'s waiting-on-me count');
  await waitText('total-count', `${n} case${n === 1 ? '' : 's'}`, 'the list\'s totalCount');
  const rows = await page.locator('[data-testid="case-row"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  if (rows.length !== n) throw new Error(`the list has ${rows.length} rows (${rows.join(', ')}), want ${n}`);
  log(`waiting on me: ${rows.join(', ')}`);
  if (env.CASE_ID) await openAndAct(rows);

  // The conversation with the API was cross-origin and approved each time.
  const origin = pageURL.origin;
  const posts = apiAnswers.filter((a) => a.method === 'POST');
  if (posts.length < 2) throw new Error(`only ${posts.length} POSTs reached the API: ${JSON.stringify(apiAnswers)}`);
  const unapproved = apiAnswers.filter((a) => a.acao !== origin);
  if (unapproved.length) throw new Error(`API answers without Access-Control-Allow-Origin ${origin}: ${JSON.stringify(unapproved)}`);
  // One JSON answer per query and mutation (not an event stream: see src/client.ts).
  const streamed = posts.filter((a) => !/^application\/(graphql-response\+)?json/.test(a.type));
  if (streamed.length) throw new Error(`API answers that are not JSON: ${JSON.stringify(streamed)}`);
  if (env.TRUSTED === '1') {
    if (sentText.length) throw new Error(`the page sent document text with trusted=1:\n  ${sentText.join('\n  ')}`);
    if (sentByID < posts.length) throw new Error(`only ${sentByID} of ${posts.length}+ operations went by ID`);
    log(`${sentByID} operations sent by ID, none as text`);
  }
  if (env.CASE_ID) {
    if (!socketURL.startsWith(apiURL.protocol === 'https:' ? 'wss:' : 'ws:') || new URL(socketURL).host !== apiURL.host) {
      throw new Error(`the subscription went over ${JSON.stringify(socketURL)}, want the API's WebSocket`);
    }
    if (!initCarriedToken) throw new Error('connection_init did not carry the bearer JWT');
  }

  // A page on an origin the API does not allow gets nothing: the browser refuses the
  // answer (no CORS approval), so fetch rejects.
  if (env.DENIED_URL) {
    const denied = await context.newPage();
    denied.on('pageerror', (e) => pageErrors.push(`${e.message}\n${e.stack}`));
    await denied.goto(env.DENIED_URL, { waitUntil: 'load', timeout: TIMEOUT });
    const outcome = await denied.evaluate(async (api) => {
      try {
        const r = await fetch(api, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"query":"{ __typename }"}' });
        return `answered ${r.status}`;
      } catch (e) {
        return `refused: ${e.name}: ${e.message}`;
      }
    }, apiURL.href);
    if (!outcome.startsWith('refused: TypeError')) throw new Error(`a request from ${new URL(env.DENIED_URL).origin} was not refused: ${outcome}`);
    log(`from a disallowed origin: ${outcome}`);
    await denied.close();
  }

  if (offHost.length) throw new Error(`the page tried to reach other hosts:\n  ${offHost.join('\n  ')}`);
  if (pageErrors.length) throw new Error(`uncaught errors in the page:\n  ${pageErrors.join('\n  ')}`);
}

let code = 0;
try {
  await main();
  console.log('1 passed, 0 failed');
} catch (e) {
  code = 1;
  let shot = '(no page)';
  if (page) {
    shot = path.join(env.ARTIFACTS_DIR || os.tmpdir(), `web-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch((err) => (shot = `(no screenshot: ${err.message})`));
  }
  console.error(`FAIL: ${e.message}`);
  console.error(`screenshot: ${shot}`);
  console.log('0 passed, 1 failed');
} finally {
  if (env.SCREENSHOT && page) await page.screenshot({ path: env.SCREENSHOT, fullPage: true }).catch(() => {});
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
