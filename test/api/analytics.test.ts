import { beforeAll, describe, expect, it } from "vitest";
import { runProgramAnalytics } from "../../src/analytics/pipeline";
import { lifecycleStage, lifecycleThresholdsSchema } from "../../src/domain/lifecycle/stages";
import { scoreMember } from "../../src/domain/models";
import { valueSegment } from "../../src/domain/segments/value-segments";
import type { PurchaseInput } from "../../src/ledger/earning";
import type { RefundInput } from "../../src/ledger/operations/refund";
import { clientWriteRequest, memberLedger } from "../../src/services/ledger/write";
import { call, countBy, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;

// ---------------------------------------------------------------- seeding through the member's Durable Object

/** Deterministic PRNG (mulberry32) so the seeded histories are the same on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type LedgerWrite = { operation: "accrue"; body: PurchaseInput } | { operation: "refund"; body: RefundInput };

async function ledgerWrite(p: TestProgram, memberId: string, write: LedgerWrite) {
  const { operation, body } = write;
  // Two years of history: dated purchases past the back-dating window, as an admin key may write them.
  const principal = { programId: p.programId, scope: "admin" as const };
  const req = await clientWriteRequest({ principal, memberId, idempotencyKey: uniqueKey(operation), operation, body });
  const stub = memberLedger(testEnv, p.programId, memberId);
  const result = write.operation === "accrue" ? await stub.accrue(req, write.body) : await stub.refund(req, write.body);
  if (!result.ok) throw new Error(`${operation} failed: ${result.message}`);
}

const purchase = async (p: TestProgram, memberId: string, amount: number, occurredAt: Date) => {
  const orderId = uniqueKey("ord");
  await ledgerWrite(p, memberId, {
    operation: "accrue",
    body: { orderId, amount, currency: "USD", occurredAt: occurredAt.toISOString() },
  });
  return orderId;
};
const refund = (p: TestProgram, memberId: string, orderId: string, amount: number) =>
  ledgerWrite(p, memberId, { operation: "refund", body: { orderId, amount } });

type Kind = "frequent" | "lapsed" | "mid" | "once" | "never";
type Seeded = { id: string; kind: Kind; orders: number };

/** Purchase days (days ago, oldest first) for one member of a kind. */
function historyFor(kind: Kind, rand: () => number): number[] {
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const days: number[] = [];
  if (kind === "never") return days;
  if (kind === "once") return [between(5, 700)];
  const [start, gap, stopAt] =
    kind === "frequent"
      ? [between(640, 720), () => between(40, 75), between(1, 15)]
      : kind === "lapsed"
        ? [between(690, 730), () => between(20, 40), 450]
        : [between(450, 700), () => between(40, 90), between(120, 300)];
  for (let d = start; d >= stopAt; d -= gap()) days.push(d);
  if (kind === "lapsed") return days.slice(0, between(2, 4));
  return days;
}

const SEED_CONCURRENCY = 4;

const KINDS: Array<[Kind, number]> = [
  ["frequent", 16],
  ["lapsed", 16],
  ["mid", 13],
  ["once", 10],
  ["never", 5],
];

/** 60 members with two years of history; 55 purchasers, so the models are fitted. */
async function seedProgram(p: TestProgram, seed: number): Promise<Seeded[]> {
  const rand = prng(seed);
  const plans = KINDS.flatMap(([kind, n]) =>
    Array.from({ length: n }, () => ({ kind, days: historyFor(kind, rand), amounts: [] as number[] })),
  );
  for (const plan of plans) plan.amounts = plan.days.map(() => 2_000 + Math.floor(rand() * 8_000));
  const seeded: Seeded[] = [];
  const now = Date.now();
  const queue = [...plans.entries()];
  // Several members at once; each member's writes are serialised by its own Durable Object anyway.
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [i, plan] = next;
        const m = await newMember(p, { tags: i % 3 === 0 ? ["vip"] : [] });
        const orderIds: string[] = [];
        for (let k = 0; k < plan.days.length; k++) {
          orderIds.push(await purchase(p, m.id, plan.amounts[k], new Date(now - plan.days[k] * DAY - ((i * 7 + k) % 20) * 3_600_000)));
        }
        if (plan.kind === "mid" && orderIds.length >= 2) {
          // A later, fully refunded order must not count as a purchase; a partial refund counts net.
          const refunded = await purchase(p, m.id, 5_000, new Date(now - 30 * DAY));
          await refund(p, m.id, refunded, 5_000);
          await refund(p, m.id, orderIds[1], 1_000);
        }
        seeded.push({ id: m.id, kind: plan.kind, orders: plan.days.length });
      }
    }),
  );
  return seeded;
}

// ---------------------------------------------------------------- reading back

type MemberRow = {
  id: string;
  created_at: string;
  orders_count: number;
  lifetime_spend: number;
  last_purchase_at: string | null;
  stage: string;
  stage_since: string | null;
  rfm_r: number | null;
  rfm_f: number | null;
  rfm_m: number | null;
  value_segment: string | null;
  churn_probability: number | null;
  expected_purchases_90d: number | null;
  expected_order_value: number | null;
  clv_12m: number | null;
  scored_at: string | null;
};

async function memberRows(programId: string): Promise<MemberRow[]> {
  const r = await db().$client.execute({ sql: "SELECT * FROM members WHERE program_id = ? ORDER BY id", args: [programId] });
  return r.rows as unknown as MemberRow[];
}

async function stageEvents(programId: string) {
  const r = await db().$client.execute({
    sql: "SELECT member_id, payload FROM outbox_events WHERE program_id = ? AND type = 'stage.changed' ORDER BY created_at, id",
    args: [programId],
  });
  return r.rows.map((row) => ({
    memberId: String(row.member_id),
    payload: JSON.parse(String(row.payload)) as { memberId: string; from: string; to: string },
  }));
}

/** The analytics chain in one invocation (test/api/jobs.test.ts runs it fanned out and compares). */
const nightlyAnalytics = (programId: string, now: Date) => runProgramAnalytics(db(), programId, now, { batchSize: 7, maxPages: 10_000 }); // small pages: every sweep spans several

/** Purchase summaries computed here from the orders table, independently of the SQL in the cron. */
async function summariesFromOrders(programId: string, now: Date) {
  const r = await db().$client.execute({
    sql: "SELECT member_id, amount, refunded_amount, occurred_at FROM orders WHERE program_id = ?",
    args: [programId],
  });
  const byMember = new Map<string, Map<string, number>>();
  for (const o of r.rows) {
    const net = Number(o.amount) - Number(o.refunded_amount);
    if (net <= 0 || String(o.occurred_at) > now.toISOString()) continue;
    const days = byMember.get(String(o.member_id)) ?? new Map<string, number>();
    const day = String(o.occurred_at).slice(0, 10);
    days.set(day, (days.get(day) ?? 0) + net);
    byMember.set(String(o.member_id), days);
  }
  const dayNumber = (d: string) => Date.parse(`${d}T00:00:00Z`) / DAY;
  const today = dayNumber(now.toISOString().slice(0, 10));
  return new Map(
    [...byMember].map(([memberId, days]) => {
      const sorted = [...days].sort(([a], [b]) => a.localeCompare(b));
      const x = sorted.length - 1;
      const first = dayNumber(sorted[0][0]);
      const repeat = sorted.slice(1).reduce((s, [, v]) => s + v, 0);
      return [memberId, { x, t_x: dayNumber(sorted[x][0]) - first, T: today - first, mBar: x > 0 ? repeat / x : 0 }];
    }),
  );
}

/** NTILE(5) edges, written out independently: tile sizes n/5 (+1 for the first n mod 5), edge = midpoint between tiles. */
function independentEdges(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const base = Math.floor(sorted.length / 5);
  const extra = sorted.length % 5;
  const tiles: number[][] = [];
  let at = 0;
  for (let k = 0; k < 5; k++) {
    const size = base + (k < extra ? 1 : 0);
    tiles.push(sorted.slice(at, at + size));
    at += size;
  }
  return [0, 1, 2, 3].map((k) => (tiles[k][tiles[k].length - 1] + tiles[k + 1][0]) / 2);
}

const wholeDays = (from: string, now: Date) =>
  Math.max(0, Math.floor((Math.floor(now.getTime() / 1000) - Math.floor(Date.parse(from) / 1000)) / 86_400));

function expectedRfm(rows: MemberRow[], now: Date) {
  const purchasers = rows.filter((m) => m.orders_count > 0 && m.last_purchase_at);
  const edges = {
    recency: independentEdges(purchasers.map((m) => wholeDays(m.last_purchase_at!, now))),
    frequency: independentEdges(purchasers.map((m) => Number(m.orders_count))),
    monetary: independentEdges(purchasers.map((m) => Number(m.lifetime_spend))),
  };
  const scoreOf = (m: MemberRow) => {
    if (!(m.orders_count > 0 && m.last_purchase_at)) return { r: 1, f: 1, m: 1 };
    const d = wholeDays(m.last_purchase_at, now);
    return {
      r: 1 + edges.recency.filter((e) => d < e).length,
      f: 1 + edges.frequency.filter((e) => Number(m.orders_count) > e).length,
      m: 1 + edges.monetary.filter((e) => Number(m.lifetime_spend) > e).length,
    };
  };
  return { edges, scoreOf };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

// ---------------------------------------------------------------- the tests

describe("analytics: fit, scores, RFM, value segments, lifecycle", () => {
  let p: TestProgram;
  let seeded: Seeded[];
  let now: Date;

  beforeAll(async () => {
    p = await newProgram({ name: "Analytics program", expiryDays: null });
    seeded = await seedProgram(p, 20_260_401);
    now = new Date();
  }, 180_000);

  it("the nightly cron fits the models, scores members, fills RFM and value segments, and moves stages with events", async () => {
    const before = await memberRows(p.programId);
    expect(before.every((m) => m.stage === "new" && m.churn_probability === null)).toBe(true);
    expect(await call("GET", "/v1/analytics/models", { key: p.keys.admin }).then((r) => r.body)).toEqual({ current: null, history: [] });
    // A custom segment over the analytics fields: empty until the cron has staged and scored everyone.
    const lapsingRule = {
      and: [
        { field: "stage", op: "in", value: ["at_risk", "churned"] },
        { field: "churnProbability", op: "gte", value: 0.5 },
      ],
    };
    const lapsing = await call("POST", "/v1/segments", { key: p.keys.admin, body: { name: "Lapsing", rule: lapsingRule } });
    expect(lapsing.body.memberCount).toBe(0);

    await nightlyAnalytics(p.programId, now);

    // The fit: parameters, diagnostics and fit date, visible through the API.
    const models = await call("GET", "/v1/analytics/models", { key: p.keys.admin });
    expect(models.status).toBe(200);
    const fit = models.body.current;
    expect(fit).toMatchObject({ params: { unit: "days" }, diagnostics: { purchasers: 55, sampleSize: 55, sampled: false } });
    expect(Date.parse(fit.fittedAt)).toBeGreaterThan(0);
    for (const v of [...Object.values(fit.params.bgnbd), ...Object.values(fit.params.gammaGamma)]) expect(v as number).toBeGreaterThan(0);
    expect(fit.diagnostics.bgnbd).toMatchObject({ n: 55, converged: expect.any(Boolean) });
    expect(fit.diagnostics.bgnbd.logLikelihood).toBeLessThan(0);
    expect(fit.diagnostics.bgnbd.iterations).toBeGreaterThan(0);
    expect(fit.diagnostics.gammaGamma.n).toBeGreaterThanOrEqual(40);
    expect(fit.diagnostics.warnings).toEqual([]);

    const rows = await memberRows(p.programId);
    const byId = new Map(rows.map((m) => [m.id, m]));

    // Scores: every purchaser, from the summaries computed here from the raw orders (net of refunds).
    const summaries = await summariesFromOrders(p.programId, now);
    expect(summaries.size).toBe(55);
    for (const m of rows) {
      const s = summaries.get(m.id);
      if (!s) {
        expect([m.churn_probability, m.clv_12m, m.scored_at]).toEqual([null, null, null]);
        continue;
      }
      expect(m.churn_probability).toBeGreaterThanOrEqual(0);
      expect(m.churn_probability).toBeLessThanOrEqual(1);
      expect(m.clv_12m).toBeGreaterThanOrEqual(0);
      expect(m.expected_purchases_90d).toBeGreaterThanOrEqual(0);
      expect(m.scored_at).toBe(now.toISOString());
      const expected = scoreMember({ bgnbd: fit.params.bgnbd, gg: fit.params.gammaGamma, ...s, unit: "days" });
      expect(m.churn_probability).toBeCloseTo(expected.churnProbability, 9);
      expect(m.expected_purchases_90d).toBeCloseTo(expected.expectedPurchases90d, 9);
      expect(m.expected_order_value).toBe(Math.round(expected.expectedOrderValue));
      expect(m.clv_12m).toBe(Math.round(expected.clv12m));
    }
    // A recent frequent buyer is less likely to have churned than a long-lapsed one.
    const churnOf = (kind: Kind) => seeded.filter((s) => s.kind === kind).map((s) => byId.get(s.id)!.churn_probability!);
    expect(Math.max(...churnOf("frequent"))).toBeLessThan(Math.min(...churnOf("lapsed")));
    expect(mean(churnOf("frequent"))).toBeLessThan(0.2);
    expect(mean(churnOf("lapsed"))).toBeGreaterThan(0.5);
    const once = seeded.find((s) => s.kind === "once")!;
    expect(byId.get(once.id)!.churn_probability).toBe(0); // x = 0: BG/NBD has nobody drop out before a repeat

    // RFM against edges computed here, and value segments from the domain rule.
    const { scoreOf } = expectedRfm(rows, now);
    for (const m of rows) {
      const e = scoreOf(m);
      expect({ id: m.id, r: m.rfm_r, f: m.rfm_f, m: m.rfm_m }).toEqual({ id: m.id, ...e });
      const orders = Number(m.orders_count);
      expect(m.value_segment).toBe(valueSegment({ r: e.r as 1, f: e.f as 1, m: e.m as 1, orders }));
    }
    expect(new Set(rows.map((m) => m.rfm_r)).size).toBe(5);

    // Lifecycle stages exactly as the domain rule says, each change with its event.
    const events = await stageEvents(p.programId);
    for (const m of rows) {
      const stage = lifecycleStage({
        now,
        joinedAt: m.created_at,
        lastPurchaseAt: m.last_purchase_at,
        orders: Number(m.orders_count),
        churnProbability: m.churn_probability,
      });
      expect({ id: m.id, stage: m.stage }).toEqual({ id: m.id, stage });
      const mine = events.filter((e) => e.memberId === m.id);
      if (stage === "new") expect(mine).toEqual([]);
      else {
        expect(mine.at(-1)!.payload).toEqual({ memberId: m.id, from: mine.length === 1 ? "new" : mine.at(-2)!.payload.to, to: stage });
        expect(m.stage_since).not.toBeNull();
      }
    }
    // The custom segment was recomputed last, from the new stages and scores.
    const lapsingMembers = rows.filter(
      (m) => ["at_risk", "churned"].includes(m.stage) && m.churn_probability !== null && m.churn_probability >= 0.5,
    );
    expect(lapsingMembers.length).toBeGreaterThan(0);
    const segment = await call("GET", `/v1/segments/${lapsing.body.id}/members?limit=500`, { key: p.keys.admin });
    expect(segment.body.data.map((s: { memberId: string }) => s.memberId)).toEqual(lapsingMembers.map((m) => m.id).sort());
    const stages = new Set(rows.map((m) => m.stage));
    for (const s of ["new", "active", "churned"]) expect(stages).toContain(s);

    // The member endpoint shows the new values.
    const frequent = seeded.find((s) => s.kind === "frequent")!;
    const view = await call("GET", `/v1/members/${frequent.id}`, { key: p.keys.storefront });
    const row = byId.get(frequent.id)!;
    expect(view.body.analytics).toMatchObject({
      stage: row.stage,
      rfm: { r: row.rfm_r, f: row.rfm_f, m: row.rfm_m },
      valueSegment: row.value_segment,
      churnProbability: row.churn_probability,
      clv12m: row.clv_12m,
      scoredAt: now.toISOString(),
    });
  });

  it("a rerun changes nothing and emits no new stage events", async () => {
    const before = await call("GET", "/v1/analytics/models?history=3", { key: p.keys.admin });
    const events = await stageEvents(p.programId);
    const rows = await memberRows(p.programId);
    await nightlyAnalytics(p.programId, now);
    expect(await stageEvents(p.programId)).toEqual(events);
    const again = await memberRows(p.programId);
    const scores = (ms: MemberRow[]) =>
      ms.map((m) => [
        m.id,
        m.stage,
        m.stage_since,
        m.rfm_r,
        m.rfm_f,
        m.rfm_m,
        m.value_segment,
        m.clv_12m,
        m.churn_probability?.toFixed(12),
      ]);
    expect(scores(again)).toEqual(scores(rows));
    // The same purchases on the same day are not refitted: no duplicate fit row.
    const models = await call("GET", "/v1/analytics/models?history=3", { key: p.keys.admin });
    expect(models.body.current.id).toBe(before.body.current.id);
    expect(models.body.history.length).toBe(before.body.history.length);
  });

  it("lifecycle thresholds are validated per program and an on-demand recompute applies them", async () => {
    const bad = await call("PUT", "/v1/lifecycle-settings", { key: p.keys.admin, body: { dormantAfterDays: 200, atRiskAfterDays: 100 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect(bad.body.error.message).toMatch(/atRiskAfterDays must be greater than dormantAfterDays/);
    const unknown = await call("PUT", "/v1/lifecycle-settings", { key: p.keys.admin, body: { sleepyDays: 3 } });
    expect(unknown.status).toBe(400);
    const wrongType = await call("PUT", "/v1/lifecycle-settings", { key: p.keys.admin, body: { newDays: "thirty" } });
    expect(wrongType.status).toBe(400);
    expect((await call("PUT", "/v1/lifecycle-settings", { key: p.keys.storefront, body: {} })).status).toBe(403);

    const thresholds = {
      newDays: 0,
      dormantAfterDays: 10,
      atRiskAfterDays: 120,
      churnedAfterDays: 400,
      churnProbabilityAtRisk: 0.6,
      churnProbabilityChurned: 0.9,
    };
    const put = await call("PUT", "/v1/lifecycle-settings", { key: p.keys.admin, body: thresholds });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ ...thresholds, activeWithinDays: 10, recency: "purchases" });
    expect((await call("GET", "/v1/lifecycle-settings", { key: p.keys.admin })).body).toEqual(put.body);

    const eventsBefore = await stageEvents(p.programId);
    const stagesBefore = new Map((await memberRows(p.programId)).map((m) => [m.id, m.stage]));
    const recompute = await call("POST", "/v1/analytics/recompute", { key: p.keys.admin });
    expect(recompute.status).toBe(200);
    const summary = recompute.body;
    expect(summary).toMatchObject({
      programId: p.programId,
      fit: { status: "skipped" },
      scores: { scored: 55, complete: true },
      lifecycle: { complete: true },
      rfm: { complete: true },
    });
    const at = new Date(summary.now);

    const rows = await memberRows(p.programId);
    // The edges the cron drew equal the ones computed here.
    const { edges } = expectedRfm(rows, at);
    expect(summary.rfm.edges).toEqual(edges);

    const parsed = lifecycleThresholdsSchema.parse(thresholds);
    const moved = rows.filter((m) => m.stage !== stagesBefore.get(m.id));
    expect(moved.length).toBeGreaterThan(0); // e.g. buyers 11–90 days silent: active → dormant
    expect(summary.lifecycle.changed).toBe(moved.length);
    for (const m of rows) {
      expect(m.stage).toBe(
        lifecycleStage({
          now: at,
          joinedAt: m.created_at,
          lastPurchaseAt: m.last_purchase_at,
          orders: Number(m.orders_count),
          churnProbability: m.churn_probability,
          thresholds: parsed,
        }),
      );
    }
    const newEvents = (await stageEvents(p.programId)).slice(eventsBefore.length);
    expect(newEvents.map((e) => e.payload).sort((a, b) => a.memberId.localeCompare(b.memberId))).toEqual(
      moved
        .map((m) => ({ memberId: m.id, from: stagesBefore.get(m.id), to: m.stage }))
        .sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
    for (const m of moved) expect(m.stage_since).toBe(summary.now);
  });

  it("dashboard reads: churn histogram, top CLV, counts per value segment, stage and custom segment", async () => {
    const rows = await memberRows(p.programId);
    const scored = rows.filter((m) => m.churn_probability !== null);

    const churn = await call("GET", "/v1/analytics/churn?buckets=4", { key: p.keys.admin });
    expect(churn.status).toBe(200);
    expect(churn.body.buckets).toHaveLength(4);
    expect(churn.body.buckets[3]).toMatchObject({ from: 0.75, to: 1 });
    expect(churn.body.buckets.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(scored.length);
    expect(churn.body).toMatchObject({ scored: 55, unscored: 5 });
    for (let i = 0; i < 4; i++) {
      const inBin = scored.filter((m) => Math.min(Math.floor(m.churn_probability! * 4), 3) === i).length;
      expect(churn.body.buckets[i].count).toBe(inBin);
    }
    expect(churn.body.meanChurnProbability).toBeCloseTo(mean(scored.map((m) => m.churn_probability!)), 9);
    expect((await call("GET", "/v1/analytics/churn?buckets=1", { key: p.keys.admin })).status).toBe(400);

    const top = await call("GET", "/v1/analytics/top-clv?limit=5", { key: p.keys.admin });
    expect(top.status).toBe(200);
    const expectedTop = [...scored].sort((a, b) => b.clv_12m! - a.clv_12m! || a.id.localeCompare(b.id)).slice(0, 5);
    expect(top.body.data.map((d: { memberId: string; clv12m: number }) => [d.memberId, d.clv12m])).toEqual(
      expectedTop.map((m) => [m.id, m.clv_12m]),
    );
    expect((await call("GET", "/v1/analytics/top-clv?limit=0", { key: p.keys.admin })).status).toBe(400);

    const seg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: {
        name: "Lapsing VIPs",
        rule: {
          and: [
            { field: "tags", op: "contains", value: "vip" },
            { field: "stage", op: "in", value: ["at_risk", "churned"] },
          ],
        },
      },
    });
    expect(seg.status).toBe(201);
    const counts = await call("GET", "/v1/analytics/segments", { key: p.keys.admin });
    expect(counts.status).toBe(200);
    const tally = (key: (m: MemberRow) => string) => countBy(rows, key);
    const stageTally = tally((m) => m.stage);
    for (const [stage, n] of Object.entries(counts.body.stages)) expect(n).toBe(stageTally[stage] ?? 0);
    const valueTally = tally((m) => m.value_segment ?? "none");
    for (const [segment, n] of Object.entries(counts.body.valueSegments)) expect(n).toBe(valueTally[segment] ?? 0);
    expect(counts.body.valueSegments.none).toBe(5);
    expect(counts.body.custom).toHaveLength(2);
    expect(counts.body.custom).toContainEqual({
      id: seg.body.id,
      name: "Lapsing VIPs",
      memberCount: seg.body.memberCount,
      computedAt: seg.body.computedAt,
    });
    expect(seg.body.memberCount).toBeGreaterThan(0);

    // Only admins read analytics.
    expect((await call("GET", "/v1/analytics/churn", { key: p.keys.storefront })).status).toBe(403);
    expect((await call("GET", "/v1/analytics/models")).status).toBe(401);
  });

  it("keeps programs apart and keeps the previous fit when there are too few purchasers", async () => {
    const small = await newProgram({ name: "Small program" });
    const buyers = await Promise.all([0, 1, 2].map(() => newMember(small)));
    const now = Date.now();
    for (const [i, m] of buyers.entries()) {
      await purchase(small, m.id, 4_000, new Date(now - (200 + i) * DAY));
      await purchase(small, m.id, 6_000, new Date(now - (100 - i) * DAY));
    }
    // Too few purchasers and no fit yet: nothing to score with.
    const first = await call("POST", "/v1/analytics/recompute", { key: small.keys.admin });
    expect(first.status).toBe(200);
    expect(first.body.fit).toEqual({ status: "skipped", reason: expect.stringMatching(/3 purchasers/), currentFitId: null });
    expect(first.body.scores).toEqual({ skipped: "no model fit yet" });
    expect(first.body.rfm.members).toBe(3);
    expect((await call("GET", "/v1/analytics/models", { key: small.keys.admin })).body.current).toBeNull();

    // Another program's fit, segments and members are invisible.
    const aSegments = await call("GET", "/v1/segments", { key: p.keys.admin });
    expect(aSegments.body.data.length).toBeGreaterThan(0);
    expect((await call("GET", `/v1/segments/${aSegments.body.data[0].id}`, { key: small.keys.admin })).status).toBe(404);
    expect((await call("GET", `/v1/segments/${aSegments.body.data[0].id}/members`, { key: small.keys.admin })).status).toBe(404);
    expect((await call("GET", "/v1/segments", { key: small.keys.admin })).body.data).toEqual([]);
    const top = await call("GET", "/v1/analytics/top-clv", { key: small.keys.admin });
    expect(top.body.data).toEqual([]);
    const counts = await call("GET", "/v1/analytics/segments", { key: small.keys.admin });
    expect(Object.values(counts.body.stages).reduce((s: number, n) => s + (n as number), 0)).toBe(3);
    expect((await call("GET", `/v1/members/${seeded[0].id}`, { key: small.keys.admin })).status).toBe(404);

    // A program's previous fit stays current when a refit is skipped, and scores its members.
    const aFit = (await call("GET", "/v1/analytics/models", { key: p.keys.admin })).body.current;
    const previousId = uniqueKey("fit");
    await db().$client.execute({
      sql: "INSERT INTO model_fits (id, program_id, params, diagnostics, created_at) VALUES (?, ?, ?, ?, ?)",
      args: [previousId, small.programId, JSON.stringify(aFit.params), JSON.stringify(aFit.diagnostics), new Date(now - DAY).toISOString()],
    });
    const second = await call("POST", "/v1/analytics/recompute", { key: small.keys.admin });
    expect(second.body.fit).toMatchObject({ status: "skipped", currentFitId: previousId });
    expect(second.body.scores).toMatchObject({ scored: 3, complete: true });
    const models = await call("GET", "/v1/analytics/models", { key: small.keys.admin });
    expect(models.body.current).toMatchObject({ id: previousId, params: aFit.params });
    const rows = await memberRows(small.programId);
    for (const m of rows) {
      expect(m.churn_probability).toBeGreaterThanOrEqual(0);
      expect(m.churn_probability).toBeLessThanOrEqual(1);
      expect(m.clv_12m).toBeGreaterThan(0);
    }
    // A near-degenerate fit (dropout the same for everyone: a, b → ∞) still scores everything:
    // the model switches to its closed-form point-mass limit, never NaN or a silent 0.
    const degenerate = { ...aFit.params, bgnbd: { r: 3.05, alpha: 196.1, a: 5.9e7, b: 6.1e8 } };
    await db().$client.execute({
      sql: "INSERT INTO model_fits (id, program_id, params, diagnostics, created_at) VALUES (?, ?, ?, ?, ?)",
      args: [
        uniqueKey("fit"),
        small.programId,
        JSON.stringify(degenerate),
        JSON.stringify(aFit.diagnostics),
        new Date(now - 1000).toISOString(),
      ],
    });
    const third = await call("POST", "/v1/analytics/recompute", { key: small.keys.admin });
    expect(third.status).toBe(200);
    expect(third.body.scores).toMatchObject({ scored: 3 });
    for (const m of await memberRows(small.programId)) {
      expect(m.churn_probability).toBeGreaterThan(0);
      expect(m.churn_probability).toBeLessThanOrEqual(1);
      expect(m.expected_purchases_90d).toBeGreaterThan(0);
      expect(m.clv_12m).toBeGreaterThan(0);
      expect(m.expected_order_value).toBeGreaterThan(0);
    }

    // Program A's members were not touched by B's recompute.
    const aRows = await memberRows(p.programId);
    expect(aRows.every((m) => m.scored_at !== null || m.churn_probability === null)).toBe(true);
    expect(new Set(aRows.filter((m) => m.scored_at).map((m) => m.scored_at)).has(second.body.now)).toBe(false);
  });
});
