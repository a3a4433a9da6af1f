// Reliability through the real stack: mixed concurrent ledger writes interleaved with the lot
// crons, and Durable Objects restarted mid-write. After each: balance = Σ ledger = Σ lots for
// every member, never negative, every idempotency key applied exactly once, no orphan lots or
// outbox events, and a retry with the same key completes what was interrupted. Also the tier
// requalification cron's set-based page writes. (libSQL faults: test/node/faults.test.ts.)
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expireLots, releasePendingLots } from "../../src/services/ledger/lots";
import { memberLedger } from "../../src/services/ledger/write";
import { loadTiers } from "../../src/services/tiers/ladder";
import { requalifyProgram } from "../../src/services/tiers/requalify";
import { extraKeys, isExpectedRefusal, keyProblems, ledgerViolations, mixedOps, type Op, type Outcome } from "../stress/ledger-workload";
import { callDirect as call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;

type Keys = { storefront: string[]; admin: string[] };

/**
 * Extra API keys, so a burst is spread over several: these tests are about the ledger, not rate
 * limits (hundreds of writes within a minute on one key would reach the default 600/min; rate
 * limits have their own tests in access.test.ts).
 */
async function burstKeys(p: TestProgram): Promise<Keys> {
  return { storefront: await extraKeys(db(), p.programId, "storefront", 8), admin: await extraKeys(db(), p.programId, "admin", 8) };
}

/** Each member gets a float of points and `orders` purchases to refund later; members in parallel. */
async function fund(keys: Keys, memberIds: string[], points: number, orders: number) {
  const orderIds = new Map<string, string[]>();
  await Promise.all(
    memberIds.map(async (id, i) => {
      const float = await call("POST", `/v1/members/${id}/adjustments`, {
        key: keys.admin[i % keys.admin.length],
        idempotencyKey: uniqueKey("float"),
        body: { points, reason: "float" },
      });
      expect(float.status).toBe(201);
      const ids = Array.from({ length: orders }, () => uniqueKey("seed-ord"));
      for (const orderId of ids) {
        const res = await call("POST", `/v1/members/${id}/accruals`, {
          key: keys.storefront[i % keys.storefront.length],
          idempotencyKey: uniqueKey("seed"),
          body: { orderId, amount: 5_000, currency: "USD" },
        });
        expect(res.status).toBe(201);
      }
      orderIds.set(id, ids);
    }),
  );
  return orderIds;
}

let sent = 0;
function send(keys: Keys, op: Op) {
  const pool = keys[op.auth];
  return call("POST", op.path, { key: pool[sent++ % pool.length], idempotencyKey: op.key, body: op.body });
}

/** Balance = Σ ledger = Σ lots for every member, pending = Σ held lots, nothing negative, no orphans. */
async function expectConsistent(programId: string) {
  const violations = await ledgerViolations(db(), programId);
  expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, 0])));
}

/** Each key: recorded once if it succeeded (with exactly the entries it answered), not at all if it failed. */
async function expectKeysExactlyOnce(programId: string, outcomes: Outcome[]) {
  expect(await keyProblems(db(), programId, outcomes)).toEqual([]);
}

describe("reliability: concurrency", () => {
  it("200 mixed writes on one member and across 20 members, interleaved with the release/expiry crons", async () => {
    // A 2-day hold and a 20-day expiry, so sweeps dated +2.5 d release and sweeps dated +21 d expire
    // the immediately available (adjustment) lots while the held purchase lots live on. The sweeps
    // time-travel this program only.
    const p = await newProgram({ holdDays: 2, expiryDays: 20 });
    const keys = await burstKeys(p);
    const solo = await newMember(p);
    const crowd = await Promise.all(Array.from({ length: 20 }, () => newMember(p)));
    const everyone = [solo.id, ...crowd.map((m) => m.id)];
    // A float to spend from and orders to refund.
    const orderIds = await fund(keys, everyone, 300, 2);

    // 200 on the one member (serialised by its object), 200 spread over the other 20, all at once.
    const ops = [
      ...mixedOps([solo.id], 200, orderIds, uniqueKey),
      ...mixedOps(
        crowd.map((m) => m.id),
        200,
        orderIds,
        uniqueKey,
      ),
    ];
    // The sweeps run in their own invocation (a spare Durable Object), as a cron would: from the
    // test's context, which also holds hundreds of open requests, workerd would cancel their fetches.
    const asCron = <T>(fn: () => Promise<T>) => runInDurableObject(memberLedger(testEnv, "cron", "sweeper"), () => fn());
    const sweeps = async () => {
      const results = [];
      for (let i = 0; i < 4; i++) {
        results.push(await asCron(() => releasePendingLots(db(), new Date(Date.now() + 2.5 * DAY), 50, { programId: p.programId })));
        results.push(await asCron(() => expireLots(db(), new Date(Date.now() + 21 * DAY), 50, { programId: p.programId })));
      }
      return results;
    };
    // Every write once, a fifth retried concurrently with the same key, two sweepers running throughout.
    const [outcomes, retries] = await Promise.all([
      Promise.all(ops.map(async (op) => ({ op, ...(await send(keys, op)) }))),
      Promise.all(ops.filter((_, i) => i % 5 === 0).map(async (op) => ({ op, ...(await send(keys, op)) }))),
      sweeps(),
      sweeps(),
    ]);

    for (const o of [...outcomes, ...retries]) {
      expect(o.status === 201 || isExpectedRefusal(o.status, o.body), `${o.op.kind} → ${o.status} ${JSON.stringify(o.body)}`).toBe(true);
    }
    expect(outcomes.filter((o) => o.status === 201).length).toBeGreaterThan(ops.length / 2);
    // A concurrent retry answered exactly what the original did (or replayed it).
    const byKey = new Map(outcomes.map((o) => [o.op.key, o]));
    for (const r of retries) {
      const original = byKey.get(r.op.key)!;
      if (r.status === 201 && original.status === 201) expect(r.body).toEqual(original.body);
    }
    // A request that failed (409) and one of its retries that succeeded would be two different
    // answers for one key: settle every key with a final retry and use that as its outcome.
    const settled = await Promise.all(ops.map(async (op) => ({ op, ...(await send(keys, op)) })));
    for (const s of settled) {
      const first = byKey.get(s.op.key)!;
      if (first.status === 201) {
        expect(s.status).toBe(201);
        expect(s.body).toEqual(first.body);
        expect(s.headers.get("idempotent-replayed")).toBe("true");
      }
    }
    await expectKeysExactlyOnce(p.programId, settled);
    await expectConsistent(p.programId);
    // The crons did run into these members: some lots were released, some expired.
    const swept = await db().$client.execute({
      sql: "SELECT SUM(type = 'expire') AS expired FROM ledger_entries WHERE program_id = ?",
      args: [p.programId],
    });
    expect(Number(swept.rows[0].expired)).toBeGreaterThan(0);
  });
});

describe("reliability: Durable Object restarts", () => {
  it("writes interrupted by a restart are all-or-nothing, and a retry with the same key completes them", async () => {
    const p = await newProgram();
    const keys = await burstKeys(p);
    const members = await Promise.all(Array.from({ length: 4 }, () => newMember(p)));
    const ids = members.map((m) => m.id);
    const orderIds = await fund(keys, ids, 500, 1);
    // Reset one member's object the way the runtime does (an eviction, a deploy, a crash):
    // whatever it was doing is cut off, its callers get an error, the next call gets a fresh instance.
    const restart = (memberId: string) =>
      runInDurableObject(memberLedger(testEnv, p.programId, memberId), (_instance, state) => state.abort("restart")).catch(() => undefined);
    const all: Outcome[] = [];
    let interrupted = 0;
    for (let round = 0; round < 4; round++) {
      const ops = mixedOps(ids, 32, orderIds, uniqueKey);
      const inFlight = Promise.all(ops.map(async (op) => ({ op, ...(await send(keys, op)) })));
      for (const delay of [10, 25, 25]) {
        await new Promise((r) => setTimeout(r, delay + round * 5));
        await Promise.all(ids.map(restart));
      }
      const first = await inFlight;
      for (const f of first) {
        if (f.status === 500) {
          interrupted++;
          expect(f.body.error.code).toBe("internal_error");
        } else
          expect(f.status === 201 || isExpectedRefusal(f.status, f.body), `${f.op.kind} → ${f.status} ${JSON.stringify(f.body)}`).toBe(
            true,
          );
      }
      // Retry everything with the same keys: an interrupted write completes, or replays if it had committed.
      const retried = await Promise.all(ops.map(async (op) => ({ op, ...(await send(keys, op)) })));
      for (const [i, r] of retried.entries()) {
        expect(r.status === 201 || isExpectedRefusal(r.status, r.body), `${r.op.kind} retry → ${r.status} ${JSON.stringify(r.body)}`).toBe(
          true,
        );
        if (first[i].status === 201) expect(r.body).toEqual(first[i].body);
      }
      all.push(...retried);
      await expectConsistent(p.programId);
    }
    await expectKeysExactlyOnce(p.programId, all);
    // The restarts did cut writes off mid-flight (else this proved nothing).
    expect(interrupted).toBeGreaterThan(0);
  });
});

describe("reliability: set-based tier requalification", () => {
  it("applies each page's renewals, upgrades and downgrades once, with their history and events, and a rerun changes nothing", async () => {
    const p = await newProgram();
    const keys = await burstKeys(p);
    for (const tier of [
      { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
      { name: "Silver", rank: 1, qualification: { windowDays: 365, minSpend: 50_000 } },
    ])
      expect((await call("POST", "/v1/tiers", { key: keys.admin[0], body: tier })).status).toBe(201);
    const ladder = await loadTiers(db(), p.programId);
    const [bronze, silver] = ladder;
    // Seven members over four pages of two: spenders (60 000) and not (5 000), in every starting state.
    const states = [
      { spend: 5_000, tier: null, expect: ["upgrade", bronze.id] }, // no tier yet: the entry tier
      { spend: 60_000, tier: null, expect: ["upgrade", silver.id] },
      { spend: 60_000, tier: silver.id, expect: ["renew", silver.id] }, // period over, still qualifies
      { spend: 5_000, tier: silver.id, expect: ["downgrade", bronze.id] }, // period over, no grace
      { spend: 5_000, tier: bronze.id, expect: ["renew", bronze.id] },
      { spend: 60_000, tier: bronze.id, expect: ["upgrade", silver.id] }, // an upgrade a write missed
      { spend: 5_000, tier: silver.id, secured: true, expect: ["none", silver.id] }, // still secured
    ];
    const ids: string[] = [];
    for (const st of states) {
      const m = await newMember(p);
      const res = await call("POST", `/v1/members/${m.id}/accruals`, {
        key: keys.storefront[0],
        idempotencyKey: uniqueKey(),
        body: { orderId: uniqueKey("o"), amount: st.spend, currency: "USD" },
      });
      expect(res.status).toBe(201);
      const securedUntil = st.secured ? new Date(Date.now() + 30 * DAY).toISOString() : new Date(Date.now() - DAY).toISOString();
      await db().$client.execute({
        sql: "UPDATE members SET tier_id = ?, tier_secured_until = ? WHERE id = ?",
        args: [st.tier, st.tier ? securedUntil : null, m.id],
      });
      ids.push(m.id);
    }
    const now = new Date();
    const counts = await requalifyProgram(db(), p.programId, ladder, now, 2);
    expect(counts).toMatchObject({ examined: 6, upgrade: 3, renew: 2, downgrade: 1, grace: 0 });
    const rows = await db().$client.execute({
      sql: `SELECT id, tier_id, tier_secured_until FROM members WHERE program_id = ?`,
      args: [p.programId],
    });
    const byId = new Map(rows.rows.map((r) => [String(r.id), r]));
    for (const [i, st] of states.entries()) {
      const row = byId.get(ids[i])!;
      expect(row.tier_id, `member ${i}`).toBe(st.expect[1]);
      if (st.expect[0] !== "none") expect(Date.parse(String(row.tier_secured_until))).toBeGreaterThan(Date.now() + 360 * DAY);
      const history = await db().$client.execute({
        sql: "SELECT change, from_tier_id, to_tier_id FROM tier_history WHERE member_id = ? AND reason = 'requalification'",
        args: [ids[i]],
      });
      const events = await db().$client.execute({
        sql: "SELECT payload FROM outbox_events WHERE member_id = ? AND type = 'tier.changed' AND created_at = ?",
        args: [ids[i], now.toISOString()],
      });
      const moved = st.expect[0] === "upgrade" || st.expect[0] === "downgrade";
      expect(
        history.rows.map((h) => [h.change, h.from_tier_id, h.to_tier_id]),
        `history of member ${i}`,
      ).toEqual(moved ? [[st.expect[0], st.tier, st.expect[1]]] : []);
      const payloads = events.rows.map((e) => JSON.parse(String(e.payload)));
      expect(
        payloads.map((e) => [e.change, e.from, e.to]),
        `events of member ${i}`,
      ).toEqual(moved ? [[st.expect[0], st.tier, st.expect[1]]] : []);
    }
    // Everyone is secured for a year now: a rerun finds nobody due and writes nothing.
    expect(await requalifyProgram(db(), p.programId, ladder, new Date(), 2)).toMatchObject({ examined: 0 });
  });
});
