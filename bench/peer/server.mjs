// PostGraphile v5 (amber preset) on the resolution center's PostgreSQL database, for the
// load tool's -peer mode (`go run ./bench -peer ...`, see BENCHMARKS.md). It is the
// standard grafserv-on-node:http setup that the `postgraphile` CLI itself runs, in
// production mode: no GraphiQL (Ruru), no explain, no watch, no websockets.
//
//   GRAPHILE_ENV=production NODE_ENV=production \
//   PEER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_bench1m PEER_PORT=0 PEER_POOL_MAX=4 \
//   node --require ./polyfill.cjs server.mjs
//
// It prints "listening on http://HOST:PORT/graphql " once it answers, then serves until
// SIGTERM or SIGINT. Settings come from the environment:
//   PEER_DATABASE_URL  the database (required; loopback only)
//   PEER_HOST          the address to listen on (default 127.0.0.1; loopback only)
//   PEER_PORT          the port (default 0: any free port)
//   PEER_POOL_MAX      node-postgres pool size (default 4, pgxpool's default on 2 CPUs)
//   PEER_SCHEMAS       comma-separated schemas to expose (default public)
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { isIP } from "node:net";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const { version } = JSON.parse(readFileSync(new URL("./node_modules/postgraphile/package.json", import.meta.url), "utf8"));

function fail(msg) {
  console.error(`peer: ${msg}`);
  process.exit(2);
}

function isLoopback(host) {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1";
  return false;
}

// A measurement in development mode would be meaningless: refuse it.
if (process.env.GRAPHILE_ENV !== "production" || process.env.NODE_ENV !== "production") {
  fail("set GRAPHILE_ENV=production and NODE_ENV=production");
}
if (typeof Promise.withResolvers !== "function") {
  fail("Promise.withResolvers is missing: run with node --require ./polyfill.cjs");
}
const connectionString = process.env.PEER_DATABASE_URL;
if (!connectionString) fail("PEER_DATABASE_URL is required");
let dbHost;
try {
  dbHost = new URL(connectionString).hostname;
} catch {
  fail("PEER_DATABASE_URL is not a URL");
}
if (!isLoopback(dbHost)) fail(`refusing a non-loopback database host ${dbHost}`);
const host = process.env.PEER_HOST || "127.0.0.1";
if (!isLoopback(host)) fail(`refusing to listen on non-loopback ${host}`);
const port = Number(process.env.PEER_PORT || 0);
const poolMax = Number(process.env.PEER_POOL_MAX || 4);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail("PEER_PORT must be 0..65535");
if (!Number.isInteger(poolMax) || poolMax < 1) fail("PEER_POOL_MAX must be a positive integer");
const schemas = (process.env.PEER_SCHEMAS || "public").split(",").map((s) => s.trim());

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas, poolConfig: { max: poolMax } })],
  grafserv: { host, port, graphiql: false, graphiqlOnGraphQLGET: false, watch: false, websockets: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => fail(`server error: ${e.message}`));
await serv.addTo(server);
// Build the schema (introspection) before announcing the port, so the first measured
// request does not pay for it.
await pgl.getSchemaResult();
server.listen({ host, port }, () => {
  const a = server.address();
  const h = a.family === "IPv6" ? `[${a.address}]` : a.address;
  console.log(`peer: postgraphile ${version} (amber), node ${process.version}, pool ${poolMax}, schemas ${schemas.join(",")}`);
  console.log(`listening on http://${h}:${a.port}/graphql `);
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`peer: ${signal}, stopping`);
  server.close();
  server.closeAllConnections?.();
  await pgl.release();
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
