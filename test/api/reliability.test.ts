// Reliability through the real stack: mixed concurrent ledger writes interleaved with the lot
// crons, and Durable Objects restarted mid-write. After each: balance = Σ ledger = Σ lots for
// every member, never negative, every idempotency key applied exactly once, no orphan lots or
// outbox events, and a retry with the same key completes what was interrupted.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expireLots, releasePendingLots } from "../../src/cron/lots";
import { apiKeys } from "../../schema";
import { memberLedger } from "../../src/services/ledger";
import { mintKey } from "../../src/services/programs";
import { call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;

type Keys = { storefront: string[]; admin: string[] };

/**
 * Extra API keys with a high limit, so a burst is spread over several keys: these tests are about
 * the ledger, not rate limits (and per-key leases are refilled per request when a burst finds them
 * empty, so one key under a 200-request burst gets 429s whatever its limit — see the bench README).
 */
async function burstKeys(p: TestProgram, perScope = 8): Promise<Keys> {
  const keys: Keys = { storefront: [], admin: [] };
  for (const scope of ["storefront", "admin"] as const) {
    for (let i = 0; i < perScope; i++) {
      const { secret, row } = await mintKey(p.programId, scope, `burst ${scope} ${i}`);
      await db().insert(apiKeys).values({ ...row, rateLimitPerMinute: 1_000_000 });
      keys[scope].push(secret);
    }
  }
  return keys;
}

/** Each member gets a float of points and `orders` purchases to refund later; members in parallel. */
async function fund(p: TestProgram, keys: Keys, memberIds: string[], points: number, orders: number) {
  const orderIds = new Map<string, string[]>();
  await Promise.all(
    memberIds.map(async (id, i) => {
      const float = await call("POST", `/v1/members/${id}/adjustments`, { key: keys.admin[i % keys.admin.length], idempotencyKey: uniqueKey("float"), body: { points, reason: "float" } });
      expect(float.status).toBe(201);
      const ids = Array.from({ length: orders }, () => uniqueKey("seed-ord"));
      for (const orderId of ids) {
        const res = await call("POST", `/v1/members/${id}/accruals`, { key: keys.storefront[i % keys.storefront.length], idempotencyKey: uniqueKey("seed"), body: { orderId, amount: 5_000, currency: "USD" } });
        expect(res.status).toBe(201);
      }
      orderIds.set(id, ids);
    }),
  );
  return orderIds;
}

type Op = { kind: "accrue" | "redeem" | "refund" | "adjust"; memberId: string; key: string; path: string; body: Record<string, unknown>; auth: "storefront" | "admin" };

let sent = 0;
function send(keys: Keys, op: Op) {
  const pool = keys[op.auth];
  return call("POST", op.path, { key: pool[sent++ % pool.length], idempotencyKey: op.key, body: op.body });
}

/** Mixed writes: accruals (some later refunded), redemptions, credits and debits. */
function mixedOps(memberIds: string[], count: number, orderIds: Map<string, string[]>): Op[] {
  return Array.from({ length: count }, (_, i): Op => {
    const memberId = memberIds[i % memberIds.length];
    const key = uniqueKey(`mix${i}`);
    switch (i % 8) {
      case 0:
      case 1:
      case 2: {
        const orderId = uniqueKey("ord");
        return { kind: "accrue", memberId, key, path: `/v1/members/${memberId}/accruals`, body: { orderId, amount: 1_000 + (i % 7) * 500, currency: "USD" }, auth: "storefront" };
      }
      case 3:
      case 4:
        return { kind: "redeem", memberId, key, path: `/v1/members/${memberId}/redemptions`, body: { points: 5 + (i % 11), reason: "checkout" }, auth: "storefront" };
      case 5: {
        const orders = orderIds.get(memberId) ?? [];
        const orderId = orders[i % Math.max(1, orders.length)];
        return { kind: "refund", memberId, key, path: `/v1/orders/${orderId}/refunds`, body: { amount: 300 + (i % 3) * 100 }, auth: "storefront" };
      }
      case 6:
        return { kind: "adjust", memberId, key, path: `/v1/members/${memberId}/adjustments`, body: { points: 7 + (i % 5), reason: "goodwill" }, auth: "admin" };
      default:
        return { kind: "adjust", memberId, key, path: `/v1/members/${memberId}/adjustments`, body: { points: -(3 + (i % 4)), reason: "correction" }, auth: "admin" };
    }
  });
}

/** Every member's invariants, and no orphans anywhere in the program. */
async function expectConsistent(programId: string, memberIds: string[]) {
  for (const id of memberIds) {
    const s = await ledgerSum(id);
    expect(s.balance, `member ${id}`).toBe(s.sum);
    expect(s.balance).toBeGreaterThanOrEqual(0);
    expect(s.lots, `Σ lots of ${id}`).toBe(s.balance);
    expect(s.pending).toBeGreaterThanOrEqual(0);
    expect(s.pending).toBeLessThanOrEqual(s.balance);
    const held = await db().$client.execute({ sql: "SELECT COALESCE(SUM(remaining), 0) AS n FROM point_lots WHERE member_id = ? AND released = 0", args: [id] });
    expect(s.pending, `pending of ${id} = Σ unreleased lots`).toBe(Number(held.rows[0].n));
  }
  const q = (sql: string) => db().$client.execute({ sql, args: [programId] }).then((r) => Number(r.rows[0].n));
  // A lot without its ledger entry, an entry of a key that was never recorded.
  expect(await q("SELECT COUNT(*) AS n FROM point_lots l WHERE l.program_id = ? AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = l.entry_id)")).toBe(0);
  expect(
    await q(`SELECT COUNT(*) AS n FROM ledger_entries e WHERE e.program_id = ? AND e.request_key NOT LIKE 'expire:%'
      AND NOT EXISTS (SELECT 1 FROM ledger_requests r WHERE r.program_id = e.program_id AND r.idempotency_key = e.request_key)`),
  ).toBe(0);
  // Outbox events that point at an entry or an order that does not exist.
  expect(
    await q(`SELECT COUNT(*) AS n FROM outbox_events o WHERE o.program_id = ? AND json_extract(o.payload, '$.entryId') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = json_extract(o.payload, '$.entryId'))`),
  ).toBe(0);
  expect(
    await q(`SELECT COUNT(*) AS n FROM outbox_events o WHERE o.program_id = ? AND o.type = 'order.accrued'
      AND NOT EXISTS (SELECT 1 FROM orders r WHERE r.program_id = o.program_id AND r.order_id = json_extract(o.payload, '$.orderId'))`),
  ).toBe(0);
  // Exactly one order.accrued per order, one expire entry per lot.
  expect(await q("SELECT COUNT(*) AS n FROM (SELECT 1 FROM outbox_events WHERE program_id = ? AND type = 'order.accrued' GROUP BY json_extract(payload, '$.orderId') HAVING COUNT(*) > 1)")).toBe(0);
  expect(await q("SELECT COUNT(*) AS n FROM (SELECT 1 FROM ledger_entries WHERE program_id = ? AND type = 'expire' GROUP BY source_id HAVING COUNT(*) > 1)")).toBe(0);
}

/** Each key: recorded once if it succeeded (with exactly the entries it answered), not at all if it failed. */
async function expectKeysExactlyOnce(programId: string, outcomes: Array<{ op: Op; status: number; body: any }>) {
  const keys = outcomes.map((o) => o.op.key);
  const requests = new Map<string, number>();
  const entries = new Map<string, number>();
  for (let i = 0; i < keys.length; i += 400) {
    const slice = keys.slice(i, i + 400);
    const marks = slice.map(() => "?").join(",");
    const r = await db().$client.execute({ sql: `SELECT idempotency_key AS k, COUNT(*) AS n FROM ledger_requests WHERE program_id = ? AND idempotency_key IN (${marks}) GROUP BY k`, args: [programId, ...slice] });
    for (const row of r.rows) requests.set(String(row.k), Number(row.n));
    const e = await db().$client.execute({ sql: `SELECT request_key AS k, COUNT(*) AS n FROM ledger_entries WHERE program_id = ? AND request_key IN (${marks}) GROUP BY k`, args: [programId, ...slice] });
    for (const row of e.rows) entries.set(String(row.k), Number(row.n));
  }
  for (const { op, status, body } of outcomes) {
    if (status === 201) {
      expect(requests.get(op.key), `${op.kind} ${op.key}`).toBe(1);
      expect(entries.get(op.key) ?? 0, `${op.kind} ${op.key} entries`).toBe(body.entries.length);
    } else {
      expect(requests.get(op.key), `${op.kind} ${op.key} failed with ${status} but was recorded`).toBeUndefined();
      expect(entries.get(op.key)).toBeUndefined();
    }
  }
}

const isExpectedRefusal = (status: number, body: any) => status === 409 && ["insufficient_points", "conflict", "refund_exceeds_order"].includes(body?.error?.code);

describe("reliability: concurrency", () => {
  it("200 mixed writes on one member and across 20 members, interleaved with the release/expiry crons", async () => {
    // A 2-day hold and a 20-day expiry, so sweeps dated +2.5 d release and sweeps dated +21 d expire
    // the immediately available (adjustment) lots while the held purchase lots live on.
    const p = await newProgram({ holdDays: 2, expiryDays: 20 });
    const keys = await burstKeys(p);
    const solo = await newMember(p);
    const crowd = await Promise.all(Array.from({ length: 20 }, () => newMember(p)));
    const everyone = [solo.id, ...crowd.map((m) => m.id)];
    // A float to spend from and orders to refund.
    const orderIds = await fund(p, keys, everyone, 300, 2);

    // 80 on the one member (serialised by its object), 120 spread over the other 20.
    const ops = [...mixedOps([solo.id], 80, orderIds), ...mixedOps(crowd.map((m) => m.id), 120, orderIds)];
    // The sweeps run in their own invocation (a spare Durable Object), as a cron would: from the
    // test's context, which also holds hundreds of open requests, workerd would cancel their fetches.
    const asCron = <T>(fn: () => Promise<T>) => runInDurableObject(memberLedger(testEnv, "cron", "sweeper"), () => fn());
    const sweeps = async () => {
      const results = [];
      for (let i = 0; i < 4; i++) {
        results.push(await asCron(() => releasePendingLots(db(), new Date(Date.now() + 2.5 * DAY), 50)));
        results.push(await asCron(() => expireLots(db(), new Date(Date.now() + 21 * DAY), 50)));
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
    await expectConsistent(p.programId, everyone);
    // The crons did run into these members: some lots were released, some expired.
    const swept = await db().$client.execute({ sql: "SELECT SUM(type = 'expire') AS expired FROM ledger_entries WHERE program_id = ?", args: [p.programId] });
    expect(Number(swept.rows[0].expired)).toBeGreaterThan(0);
  });
});

describe("reliability: Durable Object restarts", () => {
  it("writes interrupted by a restart are all-or-nothing, and a retry with the same key completes them", async () => {
    const p = await newProgram();
    const keys = await burstKeys(p);
    const members = await Promise.all(Array.from({ length: 4 }, () => newMember(p)));
    const ids = members.map((m) => m.id);
    const orderIds = await fund(p, keys, ids, 500, 1);
    // Reset one member's object the way the runtime does (an eviction, a deploy, a crash):
    // whatever it was doing is cut off, its callers get an error, the next call gets a fresh instance.
    const restart = (memberId: string) => runInDurableObject(memberLedger(testEnv, p.programId, memberId), (_instance, state) => state.abort("restart")).catch(() => undefined);
    const all: Array<{ op: Op; status: number; body: any }> = [];
    let interrupted = 0;
    for (let round = 0; round < 2; round++) {
      const ops = mixedOps(ids, 24, orderIds);
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
        } else expect(f.status === 201 || isExpectedRefusal(f.status, f.body), `${f.op.kind} → ${f.status} ${JSON.stringify(f.body)}`).toBe(true);
      }
      // Retry everything with the same keys: an interrupted write completes, or replays if it had committed.
      const retried = await Promise.all(ops.map(async (op) => ({ op, ...(await send(keys, op)) })));
      for (const [i, r] of retried.entries()) {
        expect(r.status === 201 || isExpectedRefusal(r.status, r.body), `${r.op.kind} retry → ${r.status} ${JSON.stringify(r.body)}`).toBe(true);
        if (first[i].status === 201) expect(r.body).toEqual(first[i].body);
      }
      all.push(...retried);
      await expectConsistent(p.programId, ids);
    }
    await expectKeysExactlyOnce(p.programId, all);
    // The restarts did cut writes off mid-flight (else this proved nothing).
    expect(interrupted).toBeGreaterThan(0);
  });
});
