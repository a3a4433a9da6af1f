// Store and forward through the real stack: the libSQL server is killed, accruals and redemptions
// are accepted into the member's Durable Object (202), the object is restarted, the server comes
// back, and the object's alarm applies every accepted write exactly once, in order, with
// Σ ledger = balance. Also: what may be spent offline, and who may read a stored write.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, inject, it } from "vitest";
import { memberLedger } from "../../src/services/ledger/write";
import { call, db, ledgerSum, newMember, newProgram, partnerSignature, type TestProgram, testEnv, uniqueKey } from "../api/helpers";
import { ledgerViolations } from "../stress/ledger-workload";

const control = (action: "stop" | "start") =>
  fetch(`${inject("outageControlUrl")}/${action}`, { method: "POST" }).then(async (res) => {
    if (!res.ok) throw new Error(`libSQL ${action} failed: ${await res.text()}`);
  });

// A test that fails half way must not leave the next one without its database.
afterEach(() => control("start"));

const accrual = (p: TestProgram, memberId: string, key: string, amount: number, orderId = uniqueKey("order"), apiKey = p.keys.storefront) =>
  call("POST", `/v1/members/${memberId}/accruals`, {
    key: apiKey,
    idempotencyKey: key,
    body: { orderId, amount, currency: "USD" },
  });
const redemption = (p: TestProgram, memberId: string, key: string, points: number, extra: Record<string, unknown> = {}) =>
  call("POST", `/v1/members/${memberId}/redemptions`, {
    key: p.keys.storefront,
    idempotencyKey: key,
    body: { points, reason: "checkout", ...extra },
  });

/** A signed partner event, as a POS sends it. */
function partnerEvent(p: TestProgram, payload: unknown) {
  const raw = JSON.stringify(payload);
  const headers = { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) };
  return call("POST", "/v1/partner/events", { key: p.keys.partner, rawBody: raw, headers });
}

/** Poll a stored write until it is no longer pending (the member's alarm applies it by itself). */
async function settled(key: string, location: string) {
  for (let i = 0; i < 150; i++) {
    const res = await call("GET", location, { key });
    if (res.status === 200 && res.body.status !== "pending") return res.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${location} still pending`);
}

async function expectConsistent(programId: string) {
  const violations = await ledgerViolations(db(), programId);
  expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, 0])));
}

describe("store and forward while the database is down", () => {
  it("accepts accruals and redemptions into the member's object, survives its restart, and applies them exactly once, in order", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const other = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    const stranger = await newMember(p); // never written to nor looked up through its object
    // Online: 100 points (from the partner, which so may read the member), and a lookup, so the
    // member's object knows the confirmed balance.
    expect((await accrual(p, m.id, uniqueKey("seed"), 10_000, uniqueKey("order"), p.keys.partner)).status).toBe(201);
    const before = await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront });
    expect(before.body.balance.available).toBe(100);
    expect(before.body.pendingSync).toMatchObject({ accruals: 0, redemptions: 0, points: 0 });
    // The keys used while the database is down have authenticated before (and are cached).
    for (const key of [p.keys.partner, p.keys.admin, other.keys.storefront])
      expect((await call("GET", `/v1/members/${m.id}/balance`, { key })).status).toBeLessThan(500);

    await control("stop");

    const k1 = uniqueKey("acc1");
    const order1 = uniqueKey("order");
    const a1 = await accrual(p, m.id, k1, 5_000, order1);
    expect(a1.status).toBe(202);
    expect(a1.body).toMatchObject({ memberId: m.id, operation: "accrue", status: "pending", result: null });
    expect(a1.headers.get("location")).toBe(`/v1/members/${m.id}/queued-writes/${a1.body.id}`);
    // The same key while it waits: the same 202 answer; with another body, 409 idempotency_conflict.
    const a1again = await accrual(p, m.id, k1, 5_000, order1);
    expect(a1again.status).toBe(202);
    expect(a1again.headers.get("idempotent-replayed")).toBe("true");
    expect(a1again.body).toEqual(a1.body);
    const a1changed = await accrual(p, m.id, k1, 1, order1);
    expect(a1changed.status).toBe(409);
    expect(a1changed.body.error.code).toBe("idempotency_conflict");

    const k2 = uniqueKey("acc2");
    const order2 = uniqueKey("order");
    const a2 = await accrual(p, m.id, k2, 2_000, order2);
    expect(a2.status).toBe(202);

    // Redemptions spend only what the database last confirmed (100), less what waits: 60 fits, 50 more does not.
    const kr1 = uniqueKey("rdm1");
    const r1 = await redemption(p, m.id, kr1, 60);
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ operation: "redeem", status: "pending" });
    const r2 = await redemption(p, m.id, uniqueKey("rdm2"), 50);
    expect(r2.status).toBe(503);
    expect(r2.body.error).toMatchObject({
      code: "ledger_unavailable",
      details: { reason: "exceeds_confirmed_balance", spendableOffline: 40 },
    });
    // A reserve needs the database (its hold lives there); a member this object never saw cannot spend.
    const reserve = await redemption(p, m.id, uniqueKey("rsv"), 10, { capture: false });
    expect(reserve.status).toBe(503);
    expect(reserve.body.error.code).toBe("ledger_unavailable");
    const unknown = await redemption(p, stranger.id, uniqueKey("rdm-unknown"), 1);
    expect(unknown.status).toBe(503);
    expect(unknown.body.error).toMatchObject({ code: "ledger_unavailable", details: { reason: "balance_unknown" } });
    // Other writes are refused cleanly, never a 500.
    const adjust = await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("adj"),
      body: { points: 5, reason: "goodwill" },
    });
    expect(adjust.status).toBe(503);

    const k3 = uniqueKey("acc3");
    const a3 = await accrual(p, m.id, k3, 3_000);
    expect(a3.status).toBe(202);
    const kp = uniqueKey("partner");
    const ap = await accrual(p, m.id, kp, 1_000, uniqueKey("order"), p.keys.partner);
    expect(ap.status).toBe(202);

    // The member view, served from the object, says what waits.
    const offlineView = await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront });
    expect(offlineView.status).toBe(200);
    expect(offlineView.body.balance.available).toBe(100);
    expect(offlineView.body.pendingSync).toMatchObject({ accruals: 4, amount: 11_000, redemptions: 1, points: 60 });

    // The stored write: readable by its program's storefront and admin keys; not by another
    // program's key; an unknown id, or one asked for under another member, is 404.
    const location = a1.headers.get("location") as string;
    expect((await call("GET", location, { key: p.keys.storefront })).body).toMatchObject({ id: a1.body.id, status: "pending" });
    expect((await call("GET", location, { key: p.keys.admin })).status).toBe(200);
    expect((await call("GET", location, { key: other.keys.storefront })).status).toBe(404);
    expect((await call("GET", `/v1/members/${m.id}/queued-writes/qw_nothing`, { key: p.keys.storefront })).status).toBe(404);
    expect((await call("GET", `/v1/members/${stranger.id}/queued-writes/${a1.body.id}`, { key: p.keys.storefront })).status).toBe(404);

    // The object is evicted (restarted): its queue is in its durable storage.
    await runInDurableObject(memberLedger(testEnv, p.programId, m.id), (_instance, state) => state.abort("evicted")).catch(() => undefined);
    const retried = await accrual(p, m.id, k2, 2_000, order2);
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual(a2.body);

    await control("start");

    // The alarm applies the queue by itself, in order.
    const final1 = await settled(p.keys.storefront, location);
    const final2 = await settled(p.keys.storefront, a2.headers.get("location") as string);
    const finalR = await settled(p.keys.storefront, r1.headers.get("location") as string);
    const final3 = await settled(p.keys.storefront, a3.headers.get("location") as string);
    const finalP = await settled(p.keys.partner, ap.headers.get("location") as string);
    for (const f of [final1, final2, final3, finalP]) expect(f).toMatchObject({ status: "applied", result: { status: 201 } });
    expect(finalR).toMatchObject({ status: "applied", result: { status: 201, body: { redemption: { points: 60, status: "captured" } } } });
    expect(final1.result.body.pointsEarned).toBe(50);
    expect(final2.result.body.pointsEarned).toBe(20);
    expect(final3.result.body.pointsEarned).toBe(30);
    // Applied in the order accepted: each answered the balance after the one before it.
    expect([final1, final2, finalR, final3, finalP].map((f) => f.result.body.balance.available)).toEqual([150, 170, 110, 140, 150]);
    // A partner key reads its partner's stored writes only; a storefront key not the partner's.
    expect((await call("GET", location, { key: p.keys.partner })).status).toBe(404);
    expect((await call("GET", ap.headers.get("location") as string, { key: p.keys.storefront })).status).toBe(404);
    expect((await call("GET", ap.headers.get("location") as string, { key: p.keys.admin })).status).toBe(200);

    // After the sync the same key answers the write's own result.
    const replay = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: p.keys.storefront,
      idempotencyKey: k1,
      body: { orderId: order1, amount: 5_000, currency: "USD" },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(final1.result.body);

    // Exactly once: one idempotency record and one order per key; Σ ledger = balance; nothing pending.
    const requests = await db().$client.execute({
      sql: "SELECT idempotency_key AS k, COUNT(*) AS n FROM ledger_requests WHERE member_id = ? GROUP BY idempotency_key",
      args: [m.id],
    });
    const counts = Object.fromEntries(requests.rows.map((r) => [String(r.k), Number(r.n)]));
    for (const k of [k1, k2, k3, kr1, kp]) expect(counts[k]).toBe(1);
    expect(requests.rows).toHaveLength(6); // the seed accrual, four accruals, one redemption
    const entries = await db().$client.execute({
      sql: "SELECT request_key AS k, points FROM ledger_entries WHERE member_id = ? ORDER BY rowid",
      args: [m.id],
    });
    expect(entries.rows.slice(1).map((e) => [e.k, Number(e.points)])).toEqual([
      [k1, 50],
      [k2, 20],
      [kr1, -60],
      [k3, 30],
      [kp, 10],
    ]);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 150, balance: 150 });
    const after = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(after.body).toMatchObject({ available: 150, pendingSync: { accruals: 0, redemptions: 0, points: 0, oldestAcceptedAt: null } });
    await expectConsistent(p.programId);
  });

  it("a write the database refuses when it is applied fails alone, and the queue goes on", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    expect((await accrual(p, m.id, uniqueKey("seed"), 5_000)).status).toBe(201); // 50 points, confirmed
    await control("stop");
    // A duplicate orderId is found only when applied: it fails there, alone.
    const orderId = uniqueKey("order");
    const first = await accrual(p, m.id, uniqueKey("a"), 1_000, orderId);
    const dup = await accrual(p, m.id, uniqueKey("b"), 1_000, orderId);
    const spend = await redemption(p, m.id, uniqueKey("r"), 50);
    expect([first.status, dup.status, spend.status]).toEqual([202, 202, 202]);
    await control("start");
    const [f1, f2, f3] = [
      await settled(p.keys.storefront, first.headers.get("location") as string),
      await settled(p.keys.storefront, dup.headers.get("location") as string),
      await settled(p.keys.storefront, spend.headers.get("location") as string),
    ];
    expect(f1.status).toBe("applied");
    expect(f2).toMatchObject({ status: "failed", error: { code: "duplicate_order" } });
    expect(f3).toMatchObject({ status: "applied", result: { body: { balance: { available: 10 } } } });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 10, balance: 10 });
    await expectConsistent(p.programId);
  });

  it("a partner's sale waits in the member's queue too; a resend answers the same, then the applied result", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    // The partner's signing secret and key are read once while the database is up.
    const warmup = await partnerEvent(p, {
      eventId: uniqueKey("evt"),
      type: "sale",
      memberId: m.id,
      orderId: uniqueKey("pos"),
      amount: 1_000,
      currency: "USD",
    });
    expect(warmup.status).toBe(201);
    await control("stop");
    const sale = { eventId: uniqueKey("evt"), type: "sale", memberId: m.id, orderId: uniqueKey("pos"), amount: 4_000, currency: "USD" };
    const first = await partnerEvent(p, sale);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      eventId: sale.eventId,
      status: 202,
      queued: true,
      result: { operation: "accrue", status: "pending" },
    });
    const resend = await partnerEvent(p, sale);
    expect(resend.body).toMatchObject({ status: 202, queued: true, replayed: true, result: { id: first.body.result.id } });
    // A batch: the sale by memberId waits; one naming the member by externalId needs the database (503).
    const batch = await partnerEvent(p, {
      events: [
        { eventId: uniqueKey("evt"), type: "sale", memberId: m.id, orderId: uniqueKey("pos"), amount: 2_000, currency: "USD" },
        {
          eventId: uniqueKey("evt"),
          type: "sale",
          externalId: uniqueKey("cust"),
          orderId: uniqueKey("pos"),
          amount: 2_000,
          currency: "USD",
        },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([202, 503]);
    expect(batch.body.summary).toMatchObject({ received: 2, queued: 1, failed: 1, applied: 0 });
    await control("start");
    const location = `/v1/members/${m.id}/queued-writes/${first.body.result.id}`;
    const final = await settled(p.keys.partner, location);
    expect(final).toMatchObject({ status: "applied", result: { status: 201, body: { pointsEarned: 40 } } });
    await settled(p.keys.partner, `/v1/members/${m.id}/queued-writes/${batch.body.results[0].result.id}`);
    const after = await partnerEvent(p, sale);
    expect(after.status).toBe(201);
    expect(after.body).toMatchObject({ replayed: true, result: final.result.body });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 70, balance: 70 });
    await expectConsistent(p.programId);
  });
});
