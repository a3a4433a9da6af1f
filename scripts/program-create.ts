/**
 * `npm run program:create -- --name "Demo" [--currency USD] [--earn 1] [--hold-days 0]
 *  [--expiry-days 365|none] [--backdate-days 30] [--point-cost 10000] [--allow-negative] [--json]`
 * Creates a program and prints its three API keys (shown once; only hashes are stored).
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

const env = databaseEnv();
const result = await createProgram({
  ctx: { env: env as never, db: database(env), requestId: "cli" },
  input: {
    name: values.name,
    currency: values.currency,
    basePointsPerUnit: int("earn", values.earn!),
    unitMinor: int("unit-minor", values["unit-minor"]!),
    holdDays: int("hold-days", values["hold-days"]!),
    expiryDays: values["expiry-days"] === "none" ? null : int("expiry-days", values["expiry-days"]!),
    backdateDays: int("backdate-days", values["backdate-days"]!),
    pointCostPer1000: int("point-cost", values["point-cost"]!),
    allowNegativeBalance: values["allow-negative"],
  },
});
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`Program ${result.programId} created. Keys (shown once, store them now):`);
  for (const [scope, key] of Object.entries(result.keys)) console.log(`  ${scope.padEnd(10)} ${key}`);
  console.log(`Partner signing secret (Standard Webhooks, whsec_…): ${result.partnerSigningSecret}`);
}
