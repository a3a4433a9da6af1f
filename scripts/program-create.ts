/**
 * `npm run program:create -- --name "Demo" [--currency USD] [--earn 1] [--hold-days 0]
 *  [--expiry-days 365|none] [--backdate-days 30] [--point-cost 10000] [--allow-negative] [--json]`
 * Creates a program and prints its three API keys (shown once; only hashes are stored).
 *
 * With OPERATOR_TOKEN in the environment it goes through the operator API of the deployment at
 * LOYALTY_URL (or --url; no database token needed): POST /v1/operator/programs, then the admin key
 * it returns mints the storefront and partner keys. Without it, it writes to the database that
 * LIBSQL_URL names (local development).
 */
import { parseArgs } from "node:util";
import { database } from "../src/db/client";
import { createProgram } from "../src/services/access/programs";
import { databaseEnv } from "./lib/database-env";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    currency: { type: "string", default: "USD" },
    earn: { type: "string", default: "1" },
    "unit-minor": { type: "string", default: "100" },
    "hold-days": { type: "string", default: "0" },
    "expiry-days": { type: "string", default: "365" },
    "backdate-days": { type: "string", default: "30" },
    "point-cost": { type: "string", default: "10000" },
    "allow-negative": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    url: { type: "string", default: process.env.LOYALTY_URL ?? "http://127.0.0.1:8787" },
  },
});

if (!values.name) {
  console.error('usage: npm run program:create -- --name "Demo" [--json]');
  process.exit(2);
}
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
};

const input = {
  name: values.name,
  currency: values.currency!.toUpperCase(),
  basePointsPerUnit: int("earn", values.earn!),
  unitMinor: int("unit-minor", values["unit-minor"]!),
  holdDays: int("hold-days", values["hold-days"]!),
  expiryDays: values["expiry-days"] === "none" ? null : int("expiry-days", values["expiry-days"]!),
  backdateDays: int("backdate-days", values["backdate-days"]!),
  pointCostPer1000: int("point-cost", values["point-cost"]!),
  allowNegativeBalance: values["allow-negative"],
};

async function api(method: string, path: string, token: string, body: unknown) {
  const res = await fetch(`${values.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    console.error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    process.exit(1);
  }
  return json;
}

/** Through the deployment's operator API: the program and its admin key, then the other two keys by that admin key. */
async function createThroughApi(operatorToken: string) {
  const created = (await api("POST", "/v1/operator/programs", operatorToken, input)) as {
    program: { id: string };
    adminKey: string;
    partnerSigningSecret: string;
  };
  const mint = async (scope: "storefront" | "partner") =>
    ((await api("POST", "/v1/keys", created.adminKey, { name: `default ${scope}`, scope })) as { secret: string }).secret;
  return {
    programId: created.program.id,
    keys: { admin: created.adminKey, storefront: await mint("storefront"), partner: await mint("partner") },
    partnerSigningSecret: created.partnerSigningSecret,
  };
}

async function createInDatabase() {
  const env = databaseEnv();
  return createProgram({ ctx: { env: env as never, db: database(env), requestId: "cli" }, input });
}

const operatorToken = process.env.OPERATOR_TOKEN;
const result = operatorToken ? await createThroughApi(operatorToken) : await createInDatabase();
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`Program ${result.programId} created. Keys (shown once, store them now):`);
  for (const [scope, key] of Object.entries(result.keys)) console.log(`  ${scope.padEnd(10)} ${key}`);
  console.log(`Partner signing secret (Standard Webhooks, whsec_…): ${result.partnerSigningSecret}`);
}
