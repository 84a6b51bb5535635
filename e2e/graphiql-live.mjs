#!/usr/bin/env node
// Drives the browser test of a live subscription in GraphiQL: creates a case through
// the API (as the platform, then as its customer), starts graphiql.mjs in subscription
// mode on that case, and once it prints SUBSCRIBED keeps adding messages to the case
// until the page shows one. Env: BASE_URL, TOKEN (a platform token).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { BASE_URL, TOKEN } = process.env;
if (!BASE_URL || !TOKEN) {
  console.error('BASE_URL and TOKEN (platform) are required');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const url = new URL('/graphql', BASE_URL).toString();

async function gql(token, query, variables = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const payload = Object.values(body.data)[0];
  if (payload && payload.userErrors && payload.userErrors.length) throw new Error(JSON.stringify(payload.userErrors));
  return payload;
}

const n = Date.now();
const biz = (await gql(TOKEN, `mutation($r: String!) { createCompany(input: {title: "Live Test", route: $r}) { company { id } userErrors { message } } }`, { r: `live-${n}` })).company.id;
const user = (await gql(TOKEN, `mutation($u: String!) { createUser(input: {username: $u, email: "live@example.com"}) { user { id } userErrors { message } } }`, { u: `live${n}` })).user.id;
const pay = (await gql(TOKEN, `mutation($u: ID!, $b: ID!) { createPayment(input: {userId: $u, companyId: $b, currency: "EUR", totalMinor: 4200}) { payment { id } userErrors { message } } }`, { u: user, b: biz })).payment.id;
const customer = (await gql(TOKEN, `mutation($u: ID!) { createToken(input: {holder: {userId: $u}, scopes: [READ, MANAGE]}) { token userErrors { message } } }`, { u: user })).token;
const caseId = (await gql(customer, `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "Where is it?"}) { resolution { id } userErrors { message } } }`, { p: pay })).resolution.id;

const marker = `live-event-${n}`;
const child = spawn(process.execPath, [path.join(here, 'graphiql.mjs')], {
  env: {
    ...process.env, MODE: 'subscription', TOKEN,
    QUERY: `subscription { resolutionEventAdded(resolutionId: "${caseId}") { cursor node { action details } } }`,
    EXPECT: marker,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let timer = null;
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
  if (!timer && out.includes('SUBSCRIBED')) {
    // The server may register the subscription a moment after the message is sent:
    // keep producing events until the page shows one.
    const send = () => gql(customer, `mutation($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) { resolution { id } userErrors { message } } }`, { id: caseId, m: marker }).catch((e) => console.error('respond:', e.message));
    send();
    timer = setInterval(send, 1000);
  }
});
child.on('exit', (code) => {
  clearInterval(timer);
  process.exit(code ?? 1);
});
