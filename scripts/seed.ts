/**
 * `npm run seed [-- --members 10000] [--api http://127.0.0.1:8787]` — with `npm run dev` running.
 *
 * A realistic demo program: tiers Bronze/Silver/Gold/Diamond, earning rules, rewards, a
 * referral rule, segments, two campaigns and an A/B experiment, configured through the admin
 * API; members with purchase histories over two years (simulated from BG/NBD-like behaviour:
 * a purchase rate and a dropout chance per member, spend per member around a personal mean),
 * written in bulk through the same domain code as `npm run import`; then the crons run once so
 * tiers, stages, RFM, churn, CLV and KPIs are filled. Idempotent: the program, its keys and
 * every generated id are deterministic or remembered in .data/, so a second run changes nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { eq } from "drizzle-orm";
import { programs } from "../schema";
import { database } from "../src/db/client";
import { createProgram } from "../src/services/access/programs";
import { importMembers, importTransactions } from "../src/services/admin/bulk-import";
import type { ImportMemberRow, ImportTransactionRow } from "../src/services/admin/import-rows";
import { snapshotProgramDay } from "../src/services/kpis/kpis";
import { databaseEnv } from "./lib/database-env";
import { demoConfig } from "./seed/demo-config";
import { simulateMembers } from "./seed/simulate";

const { values } = parseArgs({
  options: {
    members: { type: "string", default: "10000" },
    api: { type: "string", default: process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}` },
    seed: { type: "string", default: "7" },
    quiet: { type: "boolean", default: false },
  },
});
const memberCount = Number(values.members);
if (!Number.isInteger(memberCount) || memberCount < 1 || memberCount > 1_000_000) {
  console.error("--members must be an integer between 1 and 1000000");
  process.exit(2);
}
const api = values.api!.replace(/\/$/, "");
const env = databaseEnv();
const db = database(env);
const log = (...args: unknown[]) => !values.quiet && console.log(...args);

try {
  const health = await fetch(`${api}/health`);
  if (!health.ok) throw new Error(String(health.status));
} catch {
  console.error(`The API is not reachable at ${api}: start it with \`npm run dev\` first.`);
  process.exit(1);
}

// The demo program is remembered per database so a second run reuses it (and its keys).
mkdirSync(".data", { recursive: true });
const stateFile = `.data/seed-${process.env.LIBSQL_DB ?? "loyalty"}.json`;
type SeedState = { programId: string; keys: { admin: string; storefront: string; partner: string } };
let state: SeedState | null = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : null;
if (state && !(await db.select({ id: programs.id }).from(programs).where(eq(programs.id, state.programId)).limit(1))[0]) state = null;
if (!state) {
  const created = await createProgram({
    ctx: { env: env as never, db, requestId: "seed" },
    input: { name: "Demo Shop", currency: "USD", basePointsPerUnit: 1, holdDays: 7, expiryDays: 365, pointCostPer1000: 5000 },
  });
  state = { programId: created.programId, keys: created.keys };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  log(`created program ${state.programId}`);
} else log(`reusing program ${state.programId}`);

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${state!.keys.admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

// 1. Configuration through the admin API, each item created only if its name is new.
const ids = await demoConfig(admin, log);

// 1b. What acquiring members cost per paid channel, each of the last 12 months (for CAC and LTV:CAC).
const monthlyAcquisitionSpend: Record<string, number> = { search: 180_000, social: 120_000, store: 60_000 };
for (let back = 11; back >= 0; back--) {
  const d = new Date();
  const period = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
  for (const [channel, amountMinor] of Object.entries(monthlyAcquisitionSpend)) {
    const res = await admin("PUT", `/v1/acquisition-spend/${channel}/${period}`, { amountMinor });
    if (res.status >= 300) throw new Error(`acquisition spend ${channel} ${period}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
log("acquisition spend: 12 months of search, social and store");

// 2. Members and two years of purchases, in bulk, deterministic.
const program = (await db.select().from(programs).where(eq(programs.id, state.programId)).limit(1))[0];
const bar = values.quiet
  ? null
  : new cliProgress.SingleBar(
      { format: "members {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}" },
      cliProgress.Presets.shades_classic,
    );
bar?.start(memberCount, 0, { rate: 0 });
const started = Date.now();
let orders = 0;
const CHUNK = 250;
for (const chunk of simulateMembers({ count: memberCount, seed: Number(values.seed), now: new Date(), chunk: CHUNK })) {
  await importMembers(db, program.id, chunk.members as ImportMemberRow[]);
  const r = await importTransactions(db, program, chunk.transactions as ImportTransactionRow[], { autoRegister: false });
  orders += r.imported;
  bar?.increment(chunk.members.length, {
    rate: Math.round(((chunk.offset + chunk.members.length) / Math.max(1, Date.now() - started)) * 1000),
  });
}
bar?.stop();
log(`members: ${memberCount}, new orders this run: ${orders}`);

// 3. Run the crons once: release/expire, nightly recompute (tiers, analytics, segments, KPIs, campaigns), dispatch.
const runCron = async (cron: string) => {
  const res = await fetch(`${api}/__scheduled?cron=${encodeURIComponent(cron)}`);
  log(`cron ${cron}: ${res.status}`);
};
await runCron("*/5 * * * *");
await runCron("0 3 * * *");
await nightlyJobsFinished();
// Campaigns and dispatch after the nightly chain, so they see its scores and segments.
await runCron("0 * * * *");
await runCron("* * * * *");
/**
 * The nightly cron only plans: its jobs run shard by shard on the loyalty-jobs queue, the last
 * of the chain being the segments. Wait (bounded) until the tier and segment runs have ended.
 */
async function nightlyJobsFinished() {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const runs = ((await admin("GET", "/v1/jobs?limit=50")).body?.data ?? []) as Array<{ job: string; status: string }>;
    const ended = (job: string) => runs.some((r) => r.job === job && (r.status === "ok" || r.status === "error"));
    if (ended("tiers.requalify") && ended("analytics.segments")) return log("nightly jobs: finished");
    if (Date.now() > deadline)
      return log(`nightly jobs: still running after 120 s (${runs.map((r) => `${r.job} ${r.status}`).join(", ")})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// 4. KPI history: the daily snapshots of the last 90 days, as the nightly cron would have taken them.
const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
for (let d = 90; d >= 1; d--) await snapshotProgramDay(db, program.id, new Date(today - d * 86_400_000).toISOString().slice(0, 10));
log("KPI snapshots: last 90 days");
void ids;

console.log(
  JSON.stringify({
    programId: state.programId,
    keys: state.keys,
    members: memberCount,
    dashboard: `${api}/admin`,
    docs: `${api}/docs`,
    stateFile,
  }),
);
