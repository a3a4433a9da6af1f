/**
 * Cron recompute at scale: members seeded in bulk (the import's own domain code, straight to
 * libSQL), then each nightly job timed over the whole program and compared with ONE raw SQL
 * UPDATE over the same members, at growing sizes. The jobs run in this process through the same
 * HTTP libSQL client the Worker uses, so their memory is this process's; the libSQL server's
 * is the dev.ts process's. Every job is measured in its worst case (everyone changes).
 */
import { eq, sql } from "drizzle-orm";
import { programs } from "../../schema";
import { fitProgramModels, type StoredFit } from "../../src/analytics/fit";
import { moveLifecycleStages } from "../../src/analytics/lifecycle";
import { scoreProgramRfm } from "../../src/analytics/rfm";
import { scoreProgramMembers } from "../../src/analytics/scores";
import { type Database, database } from "../../src/db/client";
import { DEFAULT_LIFECYCLE_THRESHOLDS } from "../../src/domain/lifecycle/stages";
import { FANNED_OUT_JOB_NAMES, jobDefinition } from "../../src/jobs/definitions";
import { shardBounds } from "../../src/jobs/runs";
import { createProgram } from "../../src/services/access/programs";
import { importMembers, importTransactions } from "../../src/services/admin/bulk-import";
import type { ImportMemberRow, ImportTransactionRow } from "../../src/services/admin/import-rows";
import { loadTiers } from "../../src/services/tiers/ladder";
import { requalifyProgram } from "../../src/services/tiers/requalify";
import { simulateMembers } from "../seed/simulate";
import { api } from "./load";
import { peakMb, resetPeak, type Stack } from "./stack";

const BATCH_SIZE = 500; // CRON_BATCH_SIZE's default
const LIMITS = { batchSize: BATCH_SIZE, maxPages: 100_000 };
const SEED_CHUNK = 1_000;

export const LADDER = [
  { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
  { name: "Silver", rank: 1, qualification: { windowDays: 365, minSpend: 20_000 }, benefits: { pointsMultiplier: 1.25 }, graceDays: 30 },
  {
    name: "Gold",
    rank: 2,
    qualification: { windowDays: 365, minSpend: 60_000, mode: "any", minOrders: 12 },
    benefits: { pointsMultiplier: 1.5 },
    graceDays: 30,
  },
  { name: "Diamond", rank: 3, qualification: { windowDays: 365, minSpend: 150_000 }, benefits: { pointsMultiplier: 2 }, graceDays: 30 },
];

/**
 * `cpuMs`: CPU the job's own JavaScript used in the bench process (user + system), i.e. what the
 * Worker would be billed and limited on — Workers count CPU time, not time spent waiting on I/O.
 */
type JobTiming = {
  job: string;
  members: number;
  ms: number;
  msPerThousand: number;
  cpuMs: number;
  ratioToRawUpdate: number;
  libsqlPeakMb: number;
  benchPeakMb: number;
  result?: unknown;
};
/**
 * The same job fanned out as the loyalty-jobs consumer runs it: params prepared once, then one
 * shard (JOB_SHARD_SIZE members) per message, run one after another here. `cpuMs*` are per
 * message: what each queue invocation spends against its 30 s CPU limit. `rows` = rows written.
 */
type FannedOutTiming = {
  job: string;
  shards: number;
  ms: number;
  ratioToRawUpdate: number;
  rows: number;
  cpuMsTotal: number;
  cpuMsPerMessageMax: number;
  cpuMsPerMessageP99: number;
  msPerMessageMax: number;
};
export type CronSize = {
  members: number;
  orders: number;
  seedSeconds: number;
  rawUpdateMs: number;
  jobs: JobTiming[];
  fannedOut: { shardSize: number; jobs: FannedOutTiming[] };
};

/** Members per shard in the fanned-out pass (JOB_SHARD_SIZE's default). */
const SHARD_SIZE = 5_000;

const cpuMsSince = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

/** Run every fanned-out job shard by shard, as the consumer would (see FannedOutTiming). */
async function benchFannedOut(
  db: Database,
  programId: string,
  now: Date,
  rawUpdateMs: number,
  resets: Map<string, (db: Database, programId: string) => Promise<unknown>>,
  log: (s: string) => void,
): Promise<FannedOutTiming[]> {
  const out: FannedOutTiming[] = [];
  for (const job of FANNED_OUT_JOB_NAMES) {
    const definition = jobDefinition(job)!;
    await resets.get(job)?.(db, programId);
    const perMessageCpu: number[] = [];
    const perMessageMs: number[] = [];
    let rows = 0;
    const started = performance.now();
    let cpu = process.cpuUsage();
    let t = performance.now();
    const params = await definition.prepare(db, programId, now);
    const bounds = params === null ? [] : definition.sharded ? await shardBounds(db, programId, SHARD_SIZE) : [1];
    // The plan message: prepare and split.
    perMessageCpu.push(cpuMsSince(cpu));
    perMessageMs.push(performance.now() - t);
    for (let i = 0; i < bounds.length; i++) {
      cpu = process.cpuUsage();
      t = performance.now();
      rows += await definition.run({
        db,
        programId,
        asOf: now,
        params: params ?? {},
        range: { from: bounds[i], to: bounds[i + 1] ?? null },
        batchSize: BATCH_SIZE,
      });
      perMessageCpu.push(cpuMsSince(cpu));
      perMessageMs.push(performance.now() - t);
    }
    const ms = performance.now() - started;
    const sorted = [...perMessageCpu].sort((a, b) => a - b);
    const timing: FannedOutTiming = {
      job,
      shards: bounds.length,
      ms,
      ratioToRawUpdate: ms / rawUpdateMs,
      rows,
      cpuMsTotal: perMessageCpu.reduce((s, x) => s + x, 0),
      cpuMsPerMessageMax: sorted.at(-1) ?? 0,
      cpuMsPerMessageP99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
      msPerMessageMax: Math.max(...perMessageMs),
    };
    out.push(timing);
    log(
      `  fanned out ${job.padEnd(20)} ${ms.toFixed(0).padStart(7)} ms (${timing.ratioToRawUpdate.toFixed(1)}×), ${timing.shards} shards, ${rows} rows written, CPU per message max ${timing.cpuMsPerMessageMax.toFixed(0)} ms, p99 ${timing.cpuMsPerMessageP99.toFixed(0)} ms`,
    );
  }
  return out;
}

type Job = {
  name: string;
  reset?: (db: Database, programId: string) => Promise<unknown>;
  run: (db: Database, programId: string, now: Date) => Promise<unknown>;
};

export async function benchCron(
  stack: Stack,
  sizes: number[],
  log: (s: string) => void,
): Promise<{ sizes: CronSize[]; growth: Record<string, number> }> {
  const db = database(stack.dbEnv);
  const env = stack.dbEnv;
  const created = await createProgram({
    ctx: { env: env as never, db, requestId: "bench" },
    input: { name: "Bench cron", holdDays: 7, expiryDays: 365, basePointsPerUnit: 1 },
  });
  const programId = created.programId;
  for (const tier of LADDER) await api(stack.apiUrl, "POST", "/v1/tiers", { key: created.keys.admin, body: tier });
  const ladder = await loadTiers(db, programId);
  const [program] = await db.select().from(programs).where(eq(programs.id, programId)).limit(1);
  let fit: StoredFit | null = null;

  const jobs: Job[] = [
    {
      name: "tiers.requalify",
      reset: (d, p) => d.run(sql`UPDATE members SET tier_id = NULL, tier_since = NULL, tier_secured_until = NULL WHERE program_id = ${p}`),
      run: (d, p, now) => requalifyProgram(d, p, ladder, now, BATCH_SIZE),
    },
    {
      name: "analytics.fit",
      run: async (d, p, now) => {
        const outcome = await fitProgramModels(d, p, now);
        if (outcome.status === "fitted") fit = outcome.fit;
        return outcome.status === "fitted" ? { sampleSize: outcome.fit.diagnostics.sampleSize, params: outcome.fit.params } : outcome;
      },
    },
    {
      name: "analytics.scores",
      run: (d, p, now) => (fit ? scoreProgramMembers(d, p, fit, now, LIMITS) : Promise.resolve({ skipped: "no fit" })),
    },
    { name: "analytics.rfm", run: (d, p, now) => scoreProgramRfm(d, p, now, LIMITS) },
    {
      name: "analytics.lifecycle",
      reset: (d, p) => d.run(sql`UPDATE members SET stage = 'new', stage_since = NULL WHERE program_id = ${p}`),
      run: (d, p, now) => moveLifecycleStages(d, p, DEFAULT_LIFECYCLE_THRESHOLDS, now, LIMITS),
    },
  ];

  const now = new Date();
  const results: CronSize[] = [];
  let seeded = 0;
  let orders = 0;
  for (const size of sizes) {
    const seedStarted = performance.now();
    for (const chunk of simulateMembers({ count: size, seed: 11, now, chunk: SEED_CHUNK })) {
      if (chunk.offset < seeded) continue; // members [0, seeded) are already in
      await importMembers(db, programId, chunk.members as ImportMemberRow[]);
      orders += (await importTransactions(db, program, chunk.transactions as ImportTransactionRow[], { autoRegister: false })).imported;
      if ((chunk.offset / SEED_CHUNK) % 20 === 0) log(`  seeding ${chunk.offset + chunk.members.length}/${size} members`);
    }
    seeded = size;
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    await db.run(sql`ANALYZE`);
    log(`  ${size} members, ${orders} orders (seeded in ${seedSeconds.toFixed(0)} s)`);

    // The baseline: one set-based UPDATE touching every member row of the program (median of three).
    const rawUpdate = () => timed(() => db.run(sql`UPDATE members SET updated_at = ${now.toISOString()} WHERE program_id = ${programId}`));
    const rawUpdateMs = [await rawUpdate(), await rawUpdate(), await rawUpdate()].sort((a, b) => a - b)[1];
    const timings: JobTiming[] = [];
    for (const job of jobs) {
      await job.reset?.(db, programId);
      resetPeak(stack.serverPid);
      resetPeak("self");
      let result: unknown;
      const cpuBefore = process.cpuUsage();
      const ms = await timed(async () => (result = await job.run(db, programId, now)));
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      timings.push({
        job: job.name,
        members: size,
        ms,
        msPerThousand: ms / (size / 1000),
        cpuMs,
        ratioToRawUpdate: ms / rawUpdateMs,
        libsqlPeakMb: peakMb(stack.serverPid),
        benchPeakMb: peakMb("self"),
        result: summarise(result),
      });
      log(
        `  ${job.name.padEnd(20)} ${ms.toFixed(0).padStart(7)} ms  (${(ms / rawUpdateMs).toFixed(1)}× the raw UPDATE of ${rawUpdateMs.toFixed(0)} ms), CPU ${cpuMs.toFixed(0)} ms`,
      );
    }
    const resets = new Map(jobs.filter((j) => j.reset).map((j) => [j.name, j.reset!]));
    const fannedOut = await benchFannedOut(db, programId, now, rawUpdateMs, resets, log);
    results.push({ members: size, orders, seedSeconds, rawUpdateMs, jobs: timings, fannedOut: { shardSize: SHARD_SIZE, jobs: fannedOut } });
  }
  return { sizes: results, growth: growthExponents(results) };
}

async function timed(fn: () => Promise<unknown>) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Keep results small in the JSON: counts, not edges or parameter dumps. */
function summarise(result: unknown) {
  if (!result || typeof result !== "object") return result;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") out[k] = v;
  return out;
}

/** Slope of log(time) over log(members) per job: 1 = linear, 2 = quadratic. */
function growthExponents(sizes: CronSize[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (sizes.length < 2) return out;
  const names = [...new Set(sizes.flatMap((s) => s.jobs.map((j) => j.job))), "raw UPDATE"];
  for (const name of names) {
    const points = sizes
      .map((s) => [Math.log(s.members), Math.log(name === "raw UPDATE" ? s.rawUpdateMs : (s.jobs.find((j) => j.job === name)?.ms ?? NaN))])
      .filter(([, y]) => Number.isFinite(y));
    const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
    const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
    const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
    const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
    out[name] = den > 0 ? num / den : NaN;
  }
  return out;
}
