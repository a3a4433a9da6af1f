/**
 * `npx tsx scripts/e2e/kpi-history.ts --program prg_… [--days 90]` (LIBSQL_URL, LIBSQL_AUTH_TOKEN in env or the local default):
 * take the daily KPI snapshots of the last N days now, as the nightly cron would have on each
 * of those nights, so a freshly seeded program has a trend to chart. Idempotent (upserts).
 */
import { parseArgs } from "node:util";
import { database } from "../../src/db/client";
import { snapshotProgramDay } from "../../src/services/kpis/kpis";
import { databaseEnv } from "../lib/database-env";

const { values } = parseArgs({ options: { program: { type: "string" }, days: { type: "string", default: "90" } } });
const days = Number(values.days);
if (!values.program || !Number.isInteger(days) || days < 1 || days > 730) {
  console.error("usage: tsx scripts/e2e/kpi-history.ts --program prg_… [--days 1..730]");
  process.exit(2);
}
const db = database(databaseEnv());
const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
for (let d = days; d >= 1; d--) await snapshotProgramDay(db, values.program, new Date(today - d * 86_400_000).toISOString().slice(0, 10));
console.log(JSON.stringify({ program: values.program, days }));
