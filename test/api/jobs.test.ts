// The nightly jobs fanned out on the loyalty-jobs queue, through the real stack: miniflare's
// Queue delivers the messages to the Worker's queue handler, which works shards against the
// real libSQL server. Compared with the single-invocation path on the same data and instant.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { runProgramAnalytics } from "../../src/analytics/pipeline";
import { planNightlyRuns, resumeStalledRuns } from "../../src/jobs/plan";
import { clientWriteRequest, memberLedger } from "../../src/services/ledger/write";
import { loadTiers } from "../../src/services/tiers/ladder";
import { requalifyProgram } from "../../src/services/tiers/requalify";
import { deliveries, injectJobFault } from "../support/job-faults";
import { call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const SHARD_SIZE = 5;

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function purchase(p: TestProgram, memberId: string, amount: number, occurredAt: Date) {
  const body = { orderId: uniqueKey("ord"), amount, currency: "USD", occurredAt: occurredAt.toISOString() };
  const principal = { programId: p.programId, scope: "admin" as const };
  const req = await clientWriteRequest({ principal, memberId, idempotencyKey: uniqueKey("acc"), operation: "accrue", body });
  const result = await memberLedger(testEnv, p.programId, memberId).accrue(req, body);
  if (!result.ok) throw new Error(`accrue failed: ${result.message}`);
  return body.orderId;
}

async function refund(p: TestProgram, memberId: string, orderId: string, amount: number) {
  const body = { orderId, amount };
  const principal = { programId: p.programId, scope: "admin" as const };
  const req = await clientWriteRequest({ principal, memberId, idempotencyKey: uniqueKey("ref"), operation: "refund", body });
  const result = await memberLedger(testEnv, p.programId, memberId).refund(req, body);
  if (!result.ok) throw new Error(`refund failed: ${result.message}`);
}

async function addTiers(p: TestProgram) {
  const ladder = [
    { name: "Bronze", rank: 0, qualification: { windowDays: 400 }, benefits: {} },
    { name: "Silver", rank: 1, qualification: { windowDays: 400, minSpend: 15_000 }, benefits: {}, graceDays: 30 },
    { name: "Gold", rank: 2, qualification: { windowDays: 400, minSpend: 25_000, minOrders: 3, mode: "any" }, benefits: {} },
  ];
  for (const t of ladder) {
    const res = await call("POST", "/v1/tiers", { key: p.keys.admin, body: t });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}

/** `n` members, most with a history of purchases over two years (enough purchasers to fit the models). */
async function seed(p: TestProgram, n: number, seedValue: number) {
  const rand = prng(seedValue);
  const plans = Array.from({ length: n }, (_, i) => {
    const orders = i % 12 === 0 ? 0 : i % 4 === 0 ? 1 : 2 + Math.floor(rand() * 6);
    let day = 60 + Math.floor(rand() * 650);
    return Array.from({ length: orders }, () => {
      const at = day;
      day = Math.max(1, day - 10 - Math.floor(rand() * 90));
      return { daysAgo: at, amount: 2_000 + Math.floor(rand() * 8_000) };
    });
  });
  const now = Date.now();
  const queue = [...plans.entries()];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [i, plan] = next;
        const m = await newMember(p);
        for (const o of plan) await purchase(p, m.id, o.amount, new Date(now - o.daysAgo * DAY - (i % 20) * 3_600_000));
      }
    }),
  );
}

// ---------------------------------------------------------------- the member state the jobs write

const DERIVED = [
  "tier_id",
  "tier_since",
  "tier_secured_until",
  "churn_probability",
  "expected_purchases_90d",
  "expected_order_value",
  "clv_12m",
  "scored_at",
  "rfm_r",
  "rfm_f",
  "rfm_m",
  "value_segment",
  "stage",
  "stage_since",
] as const;

type Snapshot = Array<Record<string, unknown>>;

async function derivedState(programId: string): Promise<Snapshot> {
  const r = await db().$client.execute({
    sql: `SELECT id, ${DERIVED.join(", ")} FROM members WHERE program_id = ? ORDER BY id`,
    args: [programId],
  });
  return r.rows.map((row) => Object.fromEntries([["id", row.id], ...DERIVED.map((c) => [c, row[c]])]));
}

/** What a night wrote besides member rows: tier history, tier and stage events, segment memberships, at `at`. */
async function sideEffects(programId: string, at: string) {
  const q = async (sql: string) => (await db().$client.execute({ sql, args: [programId, at] })).rows.map((r) => Object.values(r).join("|"));
  return {
    history: await q(
      "SELECT member_id, from_tier_id, to_tier_id, change FROM tier_history WHERE program_id = ? AND created_at = ? ORDER BY member_id",
    ),
    events: await q(
      "SELECT member_id, type, payload FROM outbox_events WHERE program_id = ? AND created_at = ? AND type IN ('tier.changed', 'stage.changed') ORDER BY member_id, type",
    ),
  };
}

/** Put members back as they were and forget what a night wrote, so the next night starts from the same state. */
async function restore(programId: string, snapshot: Snapshot, at: string) {
  const set = DERIVED.map((c) => `${c} = json_extract(v.value, '$.${c}')`).join(", ");
  await db().$client.batch(
    [
      {
        sql: `UPDATE members SET ${set} FROM json_each(?) AS v WHERE members.id = json_extract(v.value, '$.id')`,
        args: [JSON.stringify(snapshot)],
      },
      { sql: "DELETE FROM tier_history WHERE program_id = ? AND created_at = ?", args: [programId, at] },
      {
        sql: "DELETE FROM outbox_events WHERE program_id = ? AND created_at = ? AND type IN ('tier.changed', 'stage.changed')",
        args: [programId, at],
      },
      { sql: "DELETE FROM program_job_shards WHERE run_id IN (SELECT id FROM program_job_runs WHERE program_id = ?)", args: [programId] },
      { sql: "DELETE FROM program_job_runs WHERE program_id = ?", args: [programId] },
    ],
    "write",
  );
}

type RunRow = { id: string; job: string; status: string; shards_total: number; shards_done: number; rows: number };

async function runsOf(programId: string): Promise<RunRow[]> {
  const r = await db().$client.execute({
    sql: "SELECT id, job, status, shards_total, shards_done, rows FROM program_job_runs WHERE program_id = ? ORDER BY job",
    args: [programId],
  });
  return r.rows as unknown as RunRow[];
}

const CHAIN = ["analytics.fit", "analytics.lifecycle", "analytics.rfm", "analytics.scores", "analytics.segments", "tiers.requalify"];

/** Wait until every job of the chain has a finished run for each program. */
async function untilComplete(programIds: string[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(programIds.map(runsOf));
    if (all.every((runs) => runs.length === CHAIN.length && runs.every((r) => r.status === "ok"))) return all;
    if (all.some((runs) => runs.some((r) => r.status === "error"))) throw new Error(`a run failed: ${JSON.stringify(all)}`);
    if (Date.now() > deadline) throw new Error(`runs did not finish: ${JSON.stringify(all)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function shardsOf(runId: string) {
  const r = await db().$client.execute({
    sql: "SELECT shard, status, attempts, done_at FROM program_job_shards WHERE run_id = ? ORDER BY shard",
    args: [runId],
  });
  return r.rows.map((row) => ({
    shard: Number(row.shard),
    status: String(row.status),
    attempts: Number(row.attempts),
    doneAt: row.done_at as string | null,
  }));
}

// ---------------------------------------------------------------- the tests

describe("nightly jobs fanned out on the loyalty-jobs queue", () => {
  let p: TestProgram;
  let q: TestProgram;
  let now: Date;
  let initial: Snapshot;
  let single: { state: Snapshot; effects: Awaited<ReturnType<typeof sideEffects>>; tiers: Record<string, number>; lifecycle: number };
  let fannedOutRuns: RunRow[];

  beforeAll(async () => {
    p = await newProgram({ name: "Fan-out program", expiryDays: null });
    q = await newProgram({ name: "Second program", expiryDays: null });
    await addTiers(p);
    await addTiers(q);
    await seed(p, 60, 20_261_202);
    for (let i = 0; i < 30; i++) await newMember(q);
    // A night past every tier period (400 days from the seeded upgrades): Gold members are
    // downgraded, Silver ones are in their grace period, Bronze stays.
    now = new Date(Date.now() + 420 * DAY);
    initial = await derivedState(p.programId);

    // The single-invocation path, as the reference.
    const ladder = await loadTiers(db(), p.programId);
    const tiers = await requalifyProgram(db(), p.programId, ladder, now, 7);
    const analytics = await runProgramAnalytics(db(), p.programId, now, { batchSize: 7, maxPages: 10_000 });
    expect(analytics.fit.status).toBe("fitted");
    single = {
      state: await derivedState(p.programId),
      effects: await sideEffects(p.programId, now.toISOString()),
      tiers,
      lifecycle: analytics.lifecycle.changed,
    };
    expect(tiers.examined).toBe(60);
    expect(tiers.downgrade).toBeGreaterThan(0);
    expect(tiers.grace).toBeGreaterThan(0);
    expect(single.effects.events.length).toBeGreaterThan(0);
    await restore(p.programId, initial, now.toISOString());
  }, 240_000);

  afterEach(() => {
    deliveries.length = 0;
  });

  it("plans per program and shard, retries a failed shard, and ends with the same results as one invocation, counted once", async () => {
    // The third scores shard and the second requalification shard fail on their first delivery.
    const failed: string[] = [];
    const remove = injectJobFault((m, attempt) => {
      if (m.kind !== "shard" || attempt > 1) return;
      if ((m.job === "analytics.scores" && m.shard === 2) || (m.job === "tiers.requalify" && m.shard === 1)) {
        failed.push(`${m.job}#${m.shard}`);
        throw new Error(`injected failure of ${m.job} shard ${m.shard}`);
      }
    });
    try {
      const planned = await planNightlyRuns(testEnv, now, { shardSize: SHARD_SIZE, programIds: [p.programId, q.programId] });
      expect(planned).toEqual({ programs: 2, planned: 4 });
      // Planning the same night again (a re-fired cron) adds no run.
      await planNightlyRuns(testEnv, now, { shardSize: SHARD_SIZE, programIds: [p.programId] });
      const [runs] = await untilComplete([p.programId, q.programId]);
      fannedOutRuns = runs;
    } finally {
      remove();
    }
    expect(new Set(failed)).toEqual(new Set(["analytics.scores#2", "tiers.requalify#1"]));

    // 60 members in shards of 5: 12 shards per sharded job; the fit and segments are one message.
    const byJob = Object.fromEntries(fannedOutRuns.map((r) => [r.job, r]));
    for (const job of ["tiers.requalify", "analytics.scores", "analytics.rfm", "analytics.lifecycle"]) {
      expect(byJob[job]).toMatchObject({ status: "ok", shards_total: 12, shards_done: 12 });
    }
    expect(byJob["analytics.fit"]).toMatchObject({ shards_total: 1, shards_done: 1 });
    // The retried shards were delivered again and finished once.
    const scoreShards = await shardsOf(byJob["analytics.scores"].id);
    expect(scoreShards.every((s) => s.status === "done")).toBe(true);
    expect(scoreShards[2].attempts).toBe(1);
    expect(deliveries.some(([runId, shard, attempt]) => runId === byJob["analytics.scores"].id && shard === 2 && attempt === 2)).toBe(true);

    // Same members, same history and events as the single invocation; rows counted once.
    expect(await derivedState(p.programId)).toEqual(single.state);
    expect(await sideEffects(p.programId, now.toISOString())).toEqual(single.effects);
    expect(Number(byJob["tiers.requalify"].rows)).toBe(single.tiers.upgrade + single.tiers.downgrade + single.tiers.renew);
    expect(Number(byJob["analytics.lifecycle"].rows)).toBe(single.lifecycle);
  });

  it("interleaves the two programs' shards instead of running one program after the other", async () => {
    const [pRuns, qRuns] = await Promise.all([runsOf(p.programId), runsOf(q.programId)]);
    const pTiers = await shardsOf(pRuns.find((r) => r.job === "tiers.requalify")!.id);
    const qTiers = await shardsOf(qRuns.find((r) => r.job === "tiers.requalify")!.id);
    expect(qTiers.length).toBe(6); // 30 members
    const times = (shards: typeof pTiers) => shards.map((s) => String(s.doneAt)).sort();
    const [pFirst, pLast] = [times(pTiers)[0], times(pTiers).at(-1)!];
    const [qFirst, qLast] = [times(qTiers)[0], times(qTiers).at(-1)!];
    // Neither program waited for the other to finish.
    expect(qFirst <= pLast).toBe(true);
    expect(pFirst <= qLast).toBe(true);
    expect(qLast < pLast).toBe(true);
  });

  it("a run killed half way continues with the shards not done and ends identical to an uninterrupted run", async () => {
    await restore(p.programId, initial, now.toISOString());
    // Shards 6 and up of requalification and lifecycle crash on every delivery until the queue gives up on them.
    let crashing = true;
    const remove = injectJobFault((m) => {
      if (crashing && m.kind === "shard" && (m.job === "tiers.requalify" || m.job === "analytics.lifecycle") && (m.shard ?? 0) >= 6) {
        throw new Error("consumer killed");
      }
    });
    try {
      await planNightlyRuns(testEnv, now, { shardSize: SHARD_SIZE, programIds: [p.programId] });
      const stalled = await until(
        "the crashing shards to be given up",
        () => runsOf(p.programId),
        (runs) => {
          const lifecycle = runs.find((r) => r.job === "analytics.lifecycle");
          return !!lifecycle && lifecycle.shards_done === 6 && runs.find((r) => r.job === "tiers.requalify")!.shards_done === 6;
        },
      );
      // Give the queue time to drop the crashing messages after their retries.
      const lifecycleRun = stalled.find((r) => r.job === "analytics.lifecycle")!;
      await until(
        "the lifecycle shard 6 to exhaust its retries",
        () => shardsOf(lifecycleRun.id),
        (s) => s[6].attempts >= 6,
        60_000,
      );
      const halfway = await runsOf(p.programId);
      expect(halfway.find((r) => r.job === "analytics.lifecycle")).toMatchObject({ status: "running", shards_done: 6, shards_total: 12 });
      expect(halfway.find((r) => r.job === "analytics.segments")).toBeUndefined();

      crashing = false;
      deliveries.length = 0;
      // The resume cron (here with no staleness wait) sends the shards not done, and only those.
      await resumeStalledRuns(testEnv, new Date(), 0);
      await untilComplete([p.programId]);
      const redone = deliveries
        .filter(([, shard]) => shard !== "plan")
        .map(([runId, shard]) => `${runId === lifecycleRun.id ? "lifecycle" : "other"}#${shard}`);
      expect(redone.filter((d) => d.startsWith("lifecycle")).every((d) => Number(d.split("#")[1]) >= 6)).toBe(true);
    } finally {
      remove();
    }
    expect(await derivedState(p.programId)).toEqual(single.state);
    expect(await sideEffects(p.programId, now.toISOString())).toEqual(single.effects);
  });

  it("keeps each member's daily figures equal to the orders and ledger entries they summarise, through refunds", async () => {
    const m = await newMember(p);
    const day = new Date(Date.now() - 3 * DAY);
    const a = await purchase(p, m.id, 5_000, day);
    const b = await purchase(p, m.id, 3_000, new Date(day.getTime() + 60_000));
    await purchase(p, m.id, 2_000, new Date(Date.now() - 1 * DAY));
    await refund(p, m.id, a, 5_000); // fully refunded: no longer an order, still an active day
    await refund(p, m.id, b, 1_000);
    const fromRaw = await db().$client.execute({
      sql: `SELECT member_id, day, SUM(spend) AS spend, SUM(orders) AS orders, SUM(placed) AS placed, SUM(points) AS points FROM (
          SELECT member_id, substr(occurred_at, 1, 10) AS day, amount - refunded_amount AS spend, refunded_amount < amount AS orders, 1 AS placed, 0 AS points
          FROM orders WHERE program_id = ?1
          UNION ALL
          SELECT member_id, substr(created_at, 1, 10), 0, 0, 0, points FROM ledger_entries WHERE program_id = ?1 AND type IN ('earn', 'reverse'))
        GROUP BY member_id, day ORDER BY member_id, day`,
      args: [p.programId],
    });
    const kept = await db().$client.execute({
      sql: "SELECT member_id, day, spend, orders, placed, points FROM member_daily_figures WHERE program_id = ? ORDER BY member_id, day",
      args: [p.programId],
    });
    expect(kept.rows.length).toBeGreaterThan(100);
    expect(kept.rows.map((r) => Object.values(r).map(String))).toEqual(fromRaw.rows.map((r) => Object.values(r).map(String)));
    const mine = kept.rows.filter((r) => r.member_id === m.id && r.day === day.toISOString().slice(0, 10));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ spend: 2_000, orders: 1, placed: 2 });
  });

  it("shows runs to the program's admin only: GET /v1/jobs and GET /v1/jobs/{runId}", async () => {
    const list = await call("GET", "/v1/jobs", { key: p.keys.admin });
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { job: string }) => r.job).sort()).toEqual(CHAIN);
    const scores = list.body.data.find((r: { job: string }) => r.job === "analytics.scores");
    expect(scores).toMatchObject({ status: "ok", shardsDone: 12, shardsTotal: 12, runKey: now.toISOString().slice(0, 10) });
    expect(scores.startedAt <= scores.finishedAt).toBe(true);

    const one = await call("GET", `/v1/jobs/${scores.id}`, { key: p.keys.admin });
    expect(one.status).toBe(200);
    expect(one.body.shards).toHaveLength(12);
    expect(one.body.shards.every((s: { status: string }) => s.status === "done")).toBe(true);

    const filtered = await call("GET", "/v1/jobs?job=tiers.requalify&limit=1", { key: p.keys.admin });
    expect(filtered.body.data.map((r: { job: string }) => r.job)).toEqual(["tiers.requalify"]);

    // Storefront and partner keys read no job; another program's admin sees neither the list nor the run.
    for (const key of [p.keys.storefront, p.keys.partner]) {
      expect((await call("GET", "/v1/jobs", { key })).status).toBe(403);
      expect((await call("GET", `/v1/jobs/${scores.id}`, { key })).status).toBe(403);
    }
    const other = await call("GET", `/v1/jobs/${scores.id}`, { key: q.keys.admin });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("not_found");
    const otherList = await call("GET", "/v1/jobs", { key: q.keys.admin });
    expect(otherList.body.data.some((r: { id: string }) => r.id === scores.id)).toBe(false);
    expect((await call("GET", "/v1/jobs")).status).toBe(401);
  });
});
