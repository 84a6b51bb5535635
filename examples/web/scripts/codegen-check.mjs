#!/usr/bin/env node
// Fails when src/gql/ is not what graphql-codegen writes from the current schema and
// operations: it generates into a temporary directory and compares file by file.
// Fix: npm run codegen, and commit src/gql/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const committed = path.join(web, 'src', 'gql');
const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'codegen-check-'));
try {
  execFileSync(path.join(web, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.ts', '--silent'], {
    cwd: web,
    env: { ...process.env, CODEGEN_OUT: fresh + path.sep },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const names = new Set([...fs.readdirSync(committed), ...fs.readdirSync(fresh)]);
  const differ = [];
  for (const name of [...names].sort()) {
    const a = path.join(committed, name);
    const b = path.join(fresh, name);
    if (!fs.existsSync(a)) differ.push(`${name}: generated, not committed`);
    else if (!fs.existsSync(b)) differ.push(`${name}: committed, no longer generated`);
    else if (!fs.readFileSync(a).equals(fs.readFileSync(b))) differ.push(`${name}: differs`);
  }
  if (differ.length) {
    console.error(`FAIL: src/gql/ is not what graphql-codegen generates now (run npm run codegen and commit):\n  ${differ.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`src/gql/ is up to date (${names.size} files)`);
} finally {
  fs.rmSync(fresh, { recursive: true, force: true });
}
