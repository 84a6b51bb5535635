// GraphQL over HTTP conformance audit of a running server, with graphql-http's
// auditServer (its MUST, SHOULD and MAY audits).
//
//   cd e2e && npm ci
//   URL=http://127.0.0.1:8080/graphql node audit.mjs
//
// Env: URL (required), TOKEN (optional bearer token sent with every audit request),
// VERBOSE=1 (also list the passing audits).
//
// Prints every failing audit with its level, totals per level, and a closing line
// `N passed, M failed` counting the MUST and SHOULD audits (failing MAY audits are
// reported but not counted as failures). Exits 1 when a MUST or SHOULD audit fails,
// 2 when the audit could not run.
import { auditServer } from 'graphql-http';

const url = process.env.URL;
if (!url) {
  console.error('usage: URL=http://HOST:PORT/graphql node audit.mjs');
  process.exit(2);
}
const token = process.env.TOKEN;
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : undefined;

const levels = ['MUST', 'SHOULD', 'MAY'];
const totals = Object.fromEntries(levels.map((l) => [l, { passed: 0, failed: 0 }]));

async function describe(res) {
  if (!res) return '';
  let out = `      response: ${res.status} ${res.headers.get('content-type') ?? '(no content-type)'}`;
  if (!res.bodyUsed) {
    try {
      const text = await res.text();
      out += `\n      body: ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
    } catch {
      // body unreadable: the status line is enough
    }
  }
  return out;
}

let results;
try {
  results = await auditServer({ url, ...(fetchFn ? { fetchFn } : {}) });
} catch (err) {
  console.error(`audit could not run against ${url}: ${err?.stack ?? err}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

for (const r of results) {
  const level = levels.find((l) => r.name.startsWith(`${l} `)) ?? 'MAY';
  if (r.status === 'ok') {
    totals[level].passed++;
    if (process.env.VERBOSE) console.log(`ok   ${level.padEnd(6)} [${r.id}] ${r.name}`);
    continue;
  }
  totals[level].failed++;
  console.log(`FAIL ${level.padEnd(6)} [${r.id}] ${r.name}\n      reason: ${r.reason}`);
  const detail = await describe(r.response);
  if (detail) console.log(detail);
}

console.log(`\naudits against ${url}: ${results.length}`);
for (const l of levels) {
  const t = totals[l];
  const note = l === 'MAY' ? ' (not counted)' : '';
  console.log(`  ${l.padEnd(6)} ${t.passed} ok, ${t.failed} not ok${note}`);
}
const passed = totals.MUST.passed + totals.SHOULD.passed;
const failed = totals.MUST.failed + totals.SHOULD.failed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
