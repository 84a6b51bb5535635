#!/usr/bin/env node
// Browser test of the GraphiQL page: Debian's chromium, driven by
// playwright-core, with every request to a host other than loopback (or the
// BASE_URL host) blocked and counted as a failure.
//
//   BASE_URL   server base URL, e.g. http://127.0.0.1:8080 (required)
//   TOKEN      bearer token put into the Headers editor as
//              {"Authorization": "Bearer $TOKEN"} (empty: headers {} )
//   QUERY      operation typed into the query editor (default "{ __typename }")
//   EXPECT     text the result pane must contain (default "__typename")
//   MODE       "query" (default) or "subscription": in subscription mode the
//              script prints SUBSCRIBED on stdout once the subscription is
//              running (subscribe message sent over the WebSocket), then
//              waits for an event whose result contains EXPECT; the caller
//              produces that event.
//   TIMEOUT_MS how long to wait for the result (default 30000; 60000 for
//              subscriptions)
//   PAGE_PATH  path of the GraphiQL page (default "/")
//   CHROMIUM   browser binary (default /usr/bin/chromium)
//   ARTIFACTS_DIR  where a failure screenshot goes (default e2e/artifacts)
//   PREFILLED  "1": the page must open with {"Authorization": "Bearer $TOKEN"}
//              in the Headers editor and a query containing PREFILLED_QUERY
//              (the first embedded start's demo page); the script runs them
//              as they are instead of typing TOKEN and QUERY
//   PERSIST    "1": after the result, add a header, reload the page, and
//              check the Headers editor still holds it (headers persist)
//
// Prints "1 passed, 0 failed" and exits 0 on success; prints the reason, a
// screenshot path and "0 passed, 1 failed" and exits 1 on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const MODE = (env.MODE || 'query').toLowerCase();
const BASE_URL = env.BASE_URL;
const TOKEN = env.TOKEN || '';
const QUERY = env.QUERY || (MODE === 'subscription' ? '' : '{ __typename }');
const EXPECT = env.EXPECT || '"__typename"';
const TIMEOUT_MS = Number(env.TIMEOUT_MS || (MODE === 'subscription' ? 60000 : 30000));
const PAGE_PATH = env.PAGE_PATH || '/';
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS_DIR = env.ARTIFACTS_DIR || path.join(here, 'artifacts');
// SELF_TEST_NETWORK_GUARD=1 makes the page fetch an outside URL: the run
// must then fail, which proves the guard works.
const SELF_TEST = env.SELF_TEST_NETWORK_GUARD === '1';
const PREFILLED = env.PREFILLED === '1';
const PREFILLED_QUERY = env.PREFILLED_QUERY || 'resolution(id: "reso_';
const PERSIST = env.PERSIST === '1';

const log = (...a) => console.error('[graphiql-e2e]', ...a);

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!BASE_URL) fail('BASE_URL is not set (e.g. BASE_URL=http://127.0.0.1:8080)');
if (!['query', 'subscription'].includes(MODE)) fail(`MODE must be "query" or "subscription", not ${JSON.stringify(MODE)}`);
if (MODE === 'subscription' && !QUERY) fail('MODE=subscription needs QUERY (a subscription operation)');
if (!fs.existsSync(CHROMIUM)) {
  fail(`no browser at ${CHROMIUM}: apt-get update && apt-get install -y chromium (never download one via playwright)`);
}

const base = new URL(BASE_URL);
const pageURL = new URL(PAGE_PATH, base).href;

function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
if (!isLoopback(base.hostname)) log(`warning: BASE_URL host ${base.hostname} is not loopback; it is the only other host allowed`);
function allowed(urlString) {
  let u;
  try {
    u = new URL(urlString);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return isLoopback(u.hostname) || u.host === base.host;
}

const offHost = []; // requests that left the machine (blocked)
const pageErrors = [];
const cspViolations = [];
const sockets = [];
let subscribeSent = false;

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graphiql-e2e-profile-'));
let context;
let page;

async function screenshot(tag) {
  try {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `graphiql-${tag}-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } catch (e) {
    return `(no screenshot: ${e.message})`;
  }
}

async function editorValue(selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el && el.CodeMirror ? el.CodeMirror.getValue() : null;
  }, selector);
}

async function setEditor(selector, value, what) {
  const ok = await page.evaluate(
    ([sel, v]) => {
      const el = document.querySelector(sel);
      if (!el || !el.CodeMirror) return false;
      el.CodeMirror.setValue(v);
      el.CodeMirror.focus();
      return true;
    },
    [selector, value],
  );
  if (!ok) throw new Error(`${what} editor not found (${selector}): is the page still GraphiQL 4 with CodeMirror 5?`);
  const got = await editorValue(selector);
  if (got !== value) throw new Error(`${what} editor holds ${JSON.stringify(got)} after setValue`);
}

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const VISIBLE_TOOL_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESULT_EDITOR = '.graphiql-response .result-window .CodeMirror';

async function main() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
    serviceWorkers: 'block',
    // The self-test turns the page's CSP off so that the request reaches the
    // network layer, where the route guard must catch it.
    bypassCSP: SELF_TEST,
  });

  // Block (and count) any HTTP(S) request to a host other than loopback.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    offHost.push(`${route.request().method()} ${url}`);
    return route.abort('blockedbyclient');
  });
  // WebSockets are not routed above: record them, and check their hosts.
  context.on('weberror', (e) => pageErrors.push(String(e.error())));

  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content.Security.Policy/i.test(text)) cspViolations.push(text);
    if (m.type() === 'error') log(`console error: ${text.slice(0, 300)}`);
  });
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    if (!allowed(ws.url())) offHost.push(`WebSocket ${ws.url()}`);
    log(`websocket opened: ${ws.url()}`);
    ws.on('framesent', (f) => {
      const p = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      if (/"type"\s*:\s*"subscribe"/.test(p)) subscribeSent = true;
    });
    ws.on('framereceived', (f) => {
      const p = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      log(`ws <- ${p.slice(0, 200)}`);
    });
    ws.on('close', () => log(`websocket closed: ${ws.url()}`));
  });

  if (SELF_TEST) {
    // Proves the guard works: a page-initiated request off the machine must
    // be blocked and make the run fail.
    page.once('load', () => page.evaluate(() => fetch('https://example.com/x').catch(() => {})).catch(() => {}));
  }

  log(`opening ${pageURL}`);
  const resp = await page.goto(pageURL, { waitUntil: 'load', timeout: TIMEOUT_MS });
  if (!resp || !resp.ok()) throw new Error(`GET ${pageURL} answered ${resp ? resp.status() : 'nothing'}`);

  await page.waitForSelector(QUERY_EDITOR, { timeout: TIMEOUT_MS });
  await page.waitForSelector('.graphiql-execute-button', { timeout: TIMEOUT_MS });

  // Show the Headers tab of the editor tools, then fill the visible editor.
  const headersTab = page.locator('.graphiql-editor-tools button', { hasText: /^Headers$/ });
  await headersTab.click({ timeout: TIMEOUT_MS });
  await page.waitForSelector(VISIBLE_TOOL_EDITOR, { timeout: TIMEOUT_MS });
  const defaultHeaders = await editorValue(VISIBLE_TOOL_EDITOR);
  log(`headers editor default: ${JSON.stringify(defaultHeaders)}`);
  if (PREFILLED) {
    if (!TOKEN || !(defaultHeaders || '').includes(`"Bearer ${TOKEN}"`)) {
      throw new Error(`the Headers editor opened with ${JSON.stringify(defaultHeaders)}, want the token ${TOKEN ? TOKEN.slice(0, 6) + '...' : '(TOKEN is not set)'}`);
    }
    const q = await editorValue(QUERY_EDITOR);
    if (!(q || '').includes(PREFILLED_QUERY)) {
      throw new Error(`the query editor opened with ${JSON.stringify(q)}, want it to contain ${JSON.stringify(PREFILLED_QUERY)}`);
    }
  } else {
    const headers = TOKEN ? JSON.stringify({ Authorization: `Bearer ${TOKEN}` }, null, 2) : '{}';
    await setEditor(VISIBLE_TOOL_EDITOR, headers, 'headers');
    await setEditor(QUERY_EDITOR, QUERY, 'query');
  }
  // Let GraphiQL pick up the edits (its editors debounce onChange).
  await page.waitForTimeout(300);

  await page.click('.graphiql-execute-button');
  log(`ran ${MODE}: ${QUERY.replace(/\s+/g, ' ')}`);

  if (MODE === 'subscription') {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!subscribeSent) {
      if (Date.now() > deadline) throw new Error('no subscribe message went over a WebSocket after clicking run');
      const early = await editorValue(RESULT_EDITOR);
      if (early && /"errors"|error/i.test(early) && !early.includes(EXPECT)) {
        throw new Error(`subscription failed before it started; result pane:\n${early}`);
      }
      await page.waitForTimeout(50);
    }
    const wsUrl = sockets[sockets.length - 1] || '';
    const wantProto = base.protocol === 'https:' ? 'wss:' : 'ws:';
    if (!wsUrl.startsWith(wantProto)) throw new Error(`subscription went over ${wsUrl}, want ${wantProto}//`);
    // Give the server a moment to register the subscriber, then tell the
    // driver it may produce an event.
    await page.waitForTimeout(Number(env.SUBSCRIBE_SETTLE_MS || 200));
    console.log('SUBSCRIBED');
  }

  try {
    await page.waitForFunction(
      ([sel, want]) => {
        const el = document.querySelector(sel);
        return !!(el && el.CodeMirror && el.CodeMirror.getValue().includes(want));
      },
      [RESULT_EDITOR, EXPECT],
      { timeout: TIMEOUT_MS, polling: 100 },
    );
  } catch {
    const got = await editorValue(RESULT_EDITOR);
    throw new Error(`result pane did not show ${JSON.stringify(EXPECT)} within ${TIMEOUT_MS} ms; it shows:\n${got}`);
  }
  const result = await editorValue(RESULT_EDITOR);
  log(`result pane:\n${result}`);

  if (PERSIST) {
    // Headers persist across reloads (shouldPersistHeaders): add one, reload, look.
    const marker = `persist-${Date.now()}`;
    const headers = JSON.stringify({ Authorization: `Bearer ${TOKEN}`, 'X-Persist-Check': marker }, null, 2);
    await setEditor(VISIBLE_TOOL_EDITOR, headers, 'headers');
    await page.waitForTimeout(1000); // GraphiQL stores edits after a debounce
    log('reloading');
    await page.reload({ waitUntil: 'load', timeout: TIMEOUT_MS });
    await page.waitForSelector(QUERY_EDITOR, { timeout: TIMEOUT_MS });
    await page.locator('.graphiql-editor-tools button', { hasText: /^Headers$/ }).click({ timeout: TIMEOUT_MS });
    await page.waitForSelector(VISIBLE_TOOL_EDITOR, { timeout: TIMEOUT_MS });
    const after = await editorValue(VISIBLE_TOOL_EDITOR);
    if (!(after || '').includes(marker)) {
      throw new Error(`after a reload the Headers editor holds ${JSON.stringify(after)}: the headers did not persist`);
    }
    log('headers persisted across the reload');
  }

  if (offHost.length) throw new Error(`the page tried to reach other hosts:\n  ${offHost.join('\n  ')}`);
  if (cspViolations.length) throw new Error(`Content-Security-Policy violations:\n  ${cspViolations.join('\n  ')}`);
  if (pageErrors.length) throw new Error(`uncaught errors in the page:\n  ${pageErrors.join('\n  ')}`);
}

let code = 0;
try {
  await main();
  console.log('1 passed, 0 failed');
} catch (e) {
  code = 1;
  const shot = page ? await screenshot('failure') : '(no page)';
  console.error(`FAIL: ${e.message}`);
  if (offHost.length && !e.message.includes(offHost[0])) {
    console.error(`blocked requests to other hosts:\n  ${offHost.join('\n  ')}`);
  }
  console.error(`screenshot: ${shot}`);
  console.log('0 passed, 1 failed');
} finally {
  if (env.SCREENSHOT) {
    try {
      await page.screenshot({ path: env.SCREENSHOT });
      log(`screenshot: ${env.SCREENSHOT}`);
    } catch {}
  }
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
