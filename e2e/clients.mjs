// Protocol-client checks against a running server, with the reference clients:
// graphql-ws (graphql-transport-ws over WebSocket, via the `ws` package) and
// graphql-sse (distinct connections mode, auth by header).
//
//   URL=http://127.0.0.1:8080/graphql TOKEN=<platform token> node clients.mjs
//
// It creates its fixtures over HTTP (company, user, payment, tokens, a case opened by
// the user), subscribes to resolutionEventAdded with both clients, makes the merchant
// respond, checks that both clients receive the event, completes both subscriptions
// and disposes the clients. It also checks a query over the WebSocket and that a bad
// token is refused with close code 4403. Prints `N passed, M failed`; exits 1 on any
// failure.

import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const URL_ = process.env.URL;
const TOKEN = process.env.TOKEN;
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 10000);
if (!URL_ || !TOKEN) {
  console.error('usage: URL=http://host:port/graphql TOKEN=<platform token> node clients.mjs');
  process.exit(2);
}
const WS_URL = URL_.replace(/^http/, 'ws');

let passed = 0;
let failed = 0;
function ok(name) {
  passed++;
  console.log(`ok   ${name}`);
}
function fail(name, err) {
  failed++;
  console.log(`FAIL ${name}: ${err instanceof Error ? err.message : err}`);
}
async function check(name, fn) {
  try {
    await fn();
    ok(name);
  } catch (err) {
    fail(name, err);
  }
}

function withTimeout(promise, what, ms = TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

async function gql(token, query, variables) {
  const res = await fetch(URL_, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`${query.slice(0, 60)}...: ${JSON.stringify(body.errors)}`);
  for (const v of Object.values(body.data ?? {})) {
    if (v?.userErrors?.length) throw new Error(`${query.slice(0, 60)}...: ${JSON.stringify(v.userErrors)}`);
  }
  return body.data;
}

// A sink that records results and lets the caller wait for one matching a predicate.
function recorder(name) {
  const results = [];
  const waiters = [];
  let completed = false;
  let error = null;
  const settle = () => {
    for (const w of [...waiters]) {
      const hit = results.find(w.pred);
      if (hit) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      } else if (error || completed) {
        waiters.splice(waiters.indexOf(w), 1);
        w.reject(error ?? new Error(`${name} completed before the expected result`));
      }
    }
  };
  return {
    results,
    get completed() {
      return completed;
    },
    sink: {
      next(r) {
        results.push(r);
        settle();
      },
      error(e) {
        error = e instanceof Error ? e : new Error(`${name}: ${JSON.stringify(e?.reason ?? e?.message ?? e)}`);
        settle();
      },
      complete() {
        completed = true;
        settle();
      },
    },
    waitFor(pred, what) {
      return withTimeout(
        new Promise((resolve, reject) => {
          waiters.push({ pred, resolve, reject });
          settle();
        }),
        `${name}: ${what}`,
      );
    },
  };
}

const EVENTS = `subscription($id: ID!, $after: String) {
  resolutionEventAdded(resolutionId: $id, after: $after) { cursor node { position action reporterType } }
}`;

async function main() {
  const n = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  let fx;
  await check('fixtures over HTTP', async () => {
    const company = (await gql(TOKEN, `mutation($t: String!, $r: String!) { createCompany(input: {title: $t, route: $r}) { company { id } userErrors { code message } } }`,
      { t: `Clients ${n}`, r: `clients-${n}` })).createCompany.company;
    const user = (await gql(TOKEN, `mutation($u: String!, $e: String!) { createUser(input: {name: "Client Check", username: $u, email: $e}) { user { id } userErrors { code message } } }`,
      { u: `client_${n}`, e: `client-${n}@example.com` })).createUser.user;
    const payment = (await gql(TOKEN, `mutation($u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 1999}) { payment { id } userErrors { code message } } }`,
      { u: user.id, c: company.id })).createPayment.payment;
    const userToken = (await gql(TOKEN, `mutation($u: ID!) { createToken(input: {holder: {userId: $u}, scopes: [READ, MANAGE], label: "clients.mjs"}) { token userErrors { code message } } }`,
      { u: user.id })).createToken.token;
    const merchantToken = (await gql(TOKEN, `mutation($c: ID!) { createToken(input: {holder: {companyId: $c}, scopes: [READ, MANAGE], label: "clients.mjs"}) { token userErrors { code message } } }`,
      { c: company.id })).createToken.token;
    const opened = (await gql(userToken, `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "It never arrived."}) {
        resolution { id events(first: 1) { edges { cursor } } } userErrors { code message } } }`, { p: payment.id })).openResolution.resolution;
    fx = { userToken, merchantToken, caseID: opened.id, after: opened.events.edges[0].cursor };
  });
  if (!fx) return;

  // graphql-ws over WebSocket, authenticated by connectionParams.
  const closes = [];
  const wsClient = createWSClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${fx.userToken}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => closes.push(e?.code) },
  });
  // graphql-sse in distinct connections mode, authenticated by header.
  const sseClient = createSSEClient({
    url: URL_,
    headers: { Authorization: `Bearer ${fx.userToken}` },
    singleConnection: false,
    retryAttempts: 0,
  });

  try {
    await check('graphql-ws: query over the WebSocket', async () => {
      const r = recorder('graphql-ws query');
      wsClient.subscribe({ query: '{ viewer { role } }' }, r.sink);
      const res = await r.waitFor((x) => x.data?.viewer, 'viewer');
      if (res.data.viewer.role !== 'USER') throw new Error(`role ${res.data.viewer.role}`);
      await withTimeout(new Promise((resolve) => { const t = setInterval(() => { if (r.completed) { clearInterval(t); resolve(); } }, 10); }), 'complete');
    });

    const vars = { id: fx.caseID, after: fx.after };
    const wsRec = recorder('graphql-ws');
    const sseRec = recorder('graphql-sse');
    const disposeWS = wsClient.subscribe({ query: EVENTS, variables: vars }, wsRec.sink);
    const disposeSSE = sseClient.subscribe({ query: EVENTS, variables: vars }, sseRec.sink);

    await check('respondToResolution as the merchant', async () => {
      await gql(fx.merchantToken, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "Tracking number attached"}) { userErrors { code message } } }`,
        { id: fx.caseID });
    });
    const isResponse = (r) => r.data?.resolutionEventAdded?.node?.action === 'RESPONDED' && r.data.resolutionEventAdded.node.position === 2;
    await check('graphql-ws receives the event', async () => {
      await wsRec.waitFor(isResponse, 'the RESPONDED event');
    });
    await check('graphql-sse receives the event', async () => {
      await sseRec.waitFor(isResponse, 'the RESPONDED event');
    });
    await check('no errors on either stream', async () => {
      for (const [name, rec] of [['graphql-ws', wsRec], ['graphql-sse', sseRec]]) {
        const bad = rec.results.filter((r) => r.errors?.length);
        if (bad.length) throw new Error(`${name}: ${JSON.stringify(bad)}`);
      }
    });

    // Completing from the client side: graphql-ws sends complete, graphql-sse aborts
    // its request. Neither may deliver anything afterwards.
    disposeWS();
    disposeSSE();
    await check('completed subscriptions deliver nothing more', async () => {
      const before = wsRec.results.length + sseRec.results.length;
      await gql(fx.userToken, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "Still nothing"}) { userErrors { code message } } }`,
        { id: fx.caseID });
      await new Promise((r) => setTimeout(r, 500));
      const after = wsRec.results.length + sseRec.results.length;
      if (after !== before) throw new Error(`${after - before} result(s) after completing`);
    });
  } finally {
    await wsClient.dispose();
    await sseClient.dispose();
  }

  await check('graphql-ws: a bad token closes with 4403 Forbidden', async () => {
    let code;
    const bad = createWSClient({
      url: WS_URL,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: 'Bearer not-a-token' },
      retryAttempts: 0,
      on: { closed: (e) => { code = e?.code; } },
    });
    const r = recorder('bad token');
    bad.subscribe({ query: '{ viewer { role } }' }, r.sink);
    await r.waitFor(() => false, 'close').catch(() => {});
    await bad.dispose();
    if (code !== 4403) throw new Error(`close code ${code}`);
  });
}

try {
  await main();
} catch (err) {
  fail('unexpected', err);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
