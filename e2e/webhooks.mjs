// Webhooks checked by a third party's implementation: the `standardwebhooks` npm package
// (the Standard Webhooks reference library) verifies every delivery the server sends to
// a receiver on loopback.
//
//   URL=http://127.0.0.1:8080/graphql TOKEN=<platform token> node webhooks.mjs
//
// The server must run in development mode (DEV_MODE=true: loopback endpoints) with
// WEBHOOK_SECRET_KEY set and delivery workers on. It creates its fixtures over HTTP,
// registers an endpoint as the merchant, opens a case as the customer, and checks that
// the delivery verifies with the secret, that a changed body or another secret does
// not, and that after rotateWebhookSecret the next delivery verifies with the new secret
// and with the old one. Prints `N passed, M failed`; exits 1 on any failure.

import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const URL_ = process.env.URL;
const TOKEN = process.env.TOKEN;
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 15000);
if (!URL_ || !TOKEN) {
  console.error('usage: URL=http://host:port/graphql TOKEN=<platform token> node webhooks.mjs');
  process.exit(2);
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : err}`);
  }
}

async function gql(token, query, variables) {
  const res = await fetch(URL_, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`${query.slice(0, 60)}...: ${JSON.stringify(body.errors)}`);
  for (const v of Object.values(body.data ?? {})) {
    if (v?.userErrors?.length) throw new Error(`${query.slice(0, 60)}...: ${JSON.stringify(v.userErrors)}`);
  }
  return body.data;
}

// The receiver keeps every request's raw body and headers.
const received = [];
let wake = () => {};
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
    res.writeHead(204).end();
    wake();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const hookURL = `http://127.0.0.1:${server.address().port}/hook`;

async function delivery(n) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (received.length < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for delivery ${n} (got ${received.length})`);
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 100);
    });
  }
  return received[n - 1];
}

const headersOf = (d) => ({
  'webhook-id': d.headers['webhook-id'],
  'webhook-timestamp': d.headers['webhook-timestamp'],
  'webhook-signature': d.headers['webhook-signature'],
});

try {
  let fx;
  await check('fixtures and endpoint', async () => {
    const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const company = (await gql(TOKEN, `mutation($t: String!, $r: String!) { createCompany(input: {title: $t, route: $r}) { company { id } userErrors { code message } } }`,
      { t: `Hooks ${n}`, r: `hooks-${n}` })).createCompany.company;
    const user = (await gql(TOKEN, `mutation($u: String!, $e: String!) { createUser(input: {name: "Hook Check", username: $u, email: $e}) { user { id } userErrors { code message } } }`,
      { u: `hook_${n}`, e: `hook-${n}@example.com` })).createUser.user;
    const payment = (await gql(TOKEN, `mutation($u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 1999}) { payment { id } userErrors { code message } } }`,
      { u: user.id, c: company.id })).createPayment.payment;
    const userToken = (await gql(TOKEN, `mutation($u: ID!) { createToken(input: {holder: {userId: $u}, scopes: [READ, MANAGE], label: "webhooks.mjs"}) { token userErrors { code message } } }`,
      { u: user.id })).createToken.token;
    const merchantToken = (await gql(TOKEN, `mutation($c: ID!) { createToken(input: {holder: {companyId: $c}, scopes: [READ, MANAGE], label: "webhooks.mjs"}) { token userErrors { code message } } }`,
      { c: company.id })).createToken.token;
    const created = (await gql(merchantToken, `mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) { endpoint { id } secret userErrors { code message } } }`,
      { url: hookURL })).createWebhookEndpoint;
    fx = { userToken, merchantToken, payment, endpointID: created.endpoint.id, secret: created.secret };
  });

  if (fx) {
    await check('the created delivery verifies with standardwebhooks', async () => {
      await gql(fx.userToken, `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "It never arrived."}) { resolution { id } userErrors { code message } } }`,
        { p: fx.payment.id });
      const d = await delivery(1);
      const payload = new Webhook(fx.secret).verify(d.body, headersOf(d));
      if (payload.type !== 'resolution_center_case.created' || payload.id !== d.headers['webhook-id']) {
        throw new Error(`unexpected payload ${d.body.slice(0, 200)}`);
      }
      fx.caseID = payload.data.id;
    });

    await check('a changed body or another secret does not verify', async () => {
      const d = await delivery(1);
      let refused = 0;
      try { new Webhook(fx.secret).verify(d.body.replace('never', 'always'), headersOf(d)); } catch { refused++; }
      try { new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(d.body, headersOf(d)); } catch { refused++; }
      if (refused !== 2) throw new Error(`${2 - refused} forged deliveries verified`);
    });

    await check('after a rotation both secrets verify', async () => {
      const next = (await gql(fx.merchantToken, `mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { secret userErrors { code message } } }`,
        { id: fx.endpointID })).rotateWebhookSecret.secret;
      await gql(fx.merchantToken, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "We shipped it."}) { resolution { id } userErrors { code message } } }`,
        { id: fx.caseID });
      const d = await delivery(2);
      for (const s of [next, fx.secret]) {
        const payload = new Webhook(s).verify(d.body, headersOf(d));
        if (payload.type !== 'resolution_center_case.updated') throw new Error(`unexpected type ${payload.type}`);
      }
    });
  }
} finally {
  server.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}
