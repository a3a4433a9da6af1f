import { describe, expect, it } from "vitest";
import { expireLots, releasePendingLots } from "../../src/services/ledger/lots";
import { accrue, call, db, ledgerSum, newMember, newProgram, uniqueKey } from "./helpers";

const DAY = 86_400_000;
// Sweeps scoped to the test's program, so time travel here never touches other test files' programs.
let sweepProgram = "";
const sweep = async (daysAhead: number) => {
  const at = new Date(Date.now() + daysAhead * DAY);
  await releasePendingLots(db(), at, 500, { programId: sweepProgram });
  await expireLots(db(), at, 500, { programId: sweepProgram });
};

describe("points ledger", () => {
  it("accrual → pending → release → redeem first-to-expire → expire, balance = Σ ledger throughout", async () => {
    const p = await newProgram({ holdDays: 14, expiryDays: 365, basePointsPerUnit: 1 });
    sweepProgram = p.programId;
    const m = await newMember(p);
    const first = await accrue(p, m.id, 10_050);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ pointsEarned: 100, balance: { available: 0, pending: 100, total: 100 } });
    expect(first.body.entries).toHaveLength(1);
    expect(first.body.entries[0]).toMatchObject({ type: "earn", points: 100, sourceType: "order" });

    // Pending points cannot be spent.
    const early = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 10, reason: "too early" },
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("insufficient_points");

    await sweep(15);
    const released = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(released.body).toMatchObject({ available: 100, pending: 0, total: 100, lifetimeEarned: 100 });
    expect(released.body.expiring).toHaveLength(1);
    expect(released.body.expiring[0].points).toBe(100);

    // A second, later lot (adjustment: available at once, expires later than the first).
    await sweep(0);
    const adj = await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey(),
      body: { points: 40, reason: "goodwill" },
    });
    expect(adj.status).toBe(201);

    // Redeem 120, first to expire first: the adjustment lot (no hold) expires before the
    // purchase lot (held 14 days), so it goes first (40), then 80 of the purchase lot.
    const redeem = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 120, reason: "checkout" },
    });
    expect(redeem.status).toBe(201);
    expect(redeem.body.balance).toEqual({ available: 20, pending: 0, reserved: 0, total: 20, debt: 0 });
    const lots = await import("./helpers").then(({ db }) =>
      db().$client.execute({
        sql: "SELECT points, remaining, expires_at FROM point_lots WHERE member_id = ? ORDER BY expires_at",
        args: [m.id],
      }),
    );
    expect(lots.rows.map((r) => [Number(r.points), Number(r.remaining)])).toEqual([
      [40, 0],
      [100, 20],
    ]);

    // A year and a bit later the remaining 20 expire.
    await sweep(400);
    const after = await ledgerSum(m.id);
    expect(after).toMatchObject({ sum: 0, balance: 0, pending: 0, lots: 0 });
    const ledger = await call("GET", `/v1/members/${m.id}/ledger?limit=2`, { key: p.keys.storefront });
    expect(ledger.body.data[0]).toMatchObject({ type: "expire", points: -20 });
    expect(ledger.body.nextCursor).toBeTruthy();
    const page2 = await call("GET", `/v1/members/${m.id}/ledger?limit=10&cursor=${ledger.body.nextCursor}`, { key: p.keys.storefront });
    expect(page2.body.data.map((e: { type: string }) => e.type)).toEqual(["adjust", "earn"]);
    // Running the sweep again changes nothing.
    await sweep(400);
    expect(await ledgerSum(m.id)).toEqual(after);
  });

  it("replays an idempotent write and rejects a reused key with a different body", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const key = uniqueKey("idem");
    const body = { orderId: uniqueKey("o"), amount: 2500, currency: "USD" };
    const a = await call("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: key, body });
    const b = await call("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: key, body });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    const c = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: p.keys.storefront,
      idempotencyKey: key,
      body: { ...body, amount: 9999 },
    });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe("idempotency_conflict");
    const dup = await call("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: uniqueKey(), body });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("duplicate_order");
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 25, balance: 25 });
  });

  it("a retried write whose plan would now fail still gets its original answer (idempotency is checked after planning)", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    await accrue(p, m.id, 5000); // 50 points, available at once
    const key = uniqueKey("idem");
    const redeem = (points: number, idempotencyKey = key) =>
      call("POST", `/v1/members/${m.id}/redemptions`, { key: p.keys.storefront, idempotencyKey, body: { points, reason: "retry" } });
    const first = await redeem(50);
    expect(first.status).toBe(201);
    // The balance is now 0, so planning the same redemption again fails: the stored answer wins.
    const retry = await redeem(50);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    // The same key with another body is a conflict (here its plan fails too: 60 > 0).
    const conflicting = await redeem(60);
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error.code).toBe("idempotency_conflict");
    // A key never used keeps the planning error.
    const fresh = await redeem(50, uniqueKey());
    expect(fresh.status).toBe(409);
    expect(fresh.body.error.code).toBe("insufficient_points");
    // A reused key whose plan succeeds (another order id) fails the write on the stored key: a conflict, nothing written.
    const accrualKey = uniqueKey("idem");
    const body = { orderId: uniqueKey("o"), amount: 1000, currency: "USD" };
    const a = await call("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: accrualKey, body });
    const other = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: p.keys.storefront,
      idempotencyKey: accrualKey,
      body: { ...body, orderId: uniqueKey("o") },
    });
    expect(a.status).toBe(201);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 10, balance: 10 });
  });

  it("refunds reverse proportionally, never more than earned, and a full refund reverses exactly", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    await accrue(p, m.id, 10_000, { orderId });
    const refund = (amount: number) =>
      call("POST", `/v1/orders/${orderId}/refunds`, { key: p.keys.storefront, idempotencyKey: uniqueKey(), body: { amount } });
    const r1 = await refund(3333);
    expect(r1.status).toBe(201);
    expect(r1.body.pointsReversed).toBe(33);
    const r2 = await refund(3333);
    expect(r2.body.pointsReversed).toBe(33);
    const over = await refund(5000);
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe("refund_exceeds_order");
    const r3 = await refund(3334);
    expect(r3.body.pointsReversed).toBe(34);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 0, balance: 0, lots: 0 });
    const member = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin });
    expect(member.body.lifetime.spend).toBe(0);
    // The fully refunded order no longer counts as a purchase.
    expect(member.body.lifetime.orders).toBe(0);
    expect(member.body.lastPurchaseAt).toBeNull();
    expect(
      (await call("POST", `/v1/orders/nope/refunds`, { key: p.keys.storefront, idempotencyKey: uniqueKey(), body: { amount: 1 } })).status,
    ).toBe(404);
  });

  it("a refund after spending goes negative only where the program allows it", async () => {
    for (const allowNegativeBalance of [false, true]) {
      const p = await newProgram({ allowNegativeBalance });
      const m = await newMember(p);
      const orderId = uniqueKey("order");
      await accrue(p, m.id, 10_000, { orderId });
      await call("POST", `/v1/members/${m.id}/redemptions`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey(),
        body: { points: 80, reason: "spent" },
      });
      const r = await call("POST", `/v1/orders/${orderId}/refunds`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey(),
        body: { amount: 10_000 },
      });
      expect(r.status).toBe(201);
      const sums = await ledgerSum(m.id);
      expect(sums.sum).toBe(sums.balance);
      if (allowNegativeBalance) {
        expect(r.body).toMatchObject({ pointsReversed: 100, pointsOwed: 0 });
        expect(sums.balance).toBe(-80);
        // New points pay the deficit back first.
        await accrue(p, m.id, 10_000);
        expect(await ledgerSum(m.id)).toMatchObject({ balance: 20, lots: 20 });
      } else {
        // The 80 spent points are not lost: they are owed (see test/api/points-debt.test.ts).
        expect(r.body).toMatchObject({ pointsReversed: 20, pointsOwed: 80, balance: { total: 0, debt: 80 } });
        expect(sums.balance).toBe(0);
      }
    }
  });

  it("100 concurrent accruals and redemptions on one member: no lost update, never negative, one entry per key", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey(),
      body: { points: 500, reason: "float" },
    });
    const keys = Array.from({ length: 100 }, (_, i) => uniqueKey(`c${i}`));
    const ops = keys.map((k, i) =>
      i % 2 === 0
        ? call("POST", `/v1/members/${m.id}/accruals`, {
            key: p.keys.storefront,
            idempotencyKey: k,
            body: { orderId: `conc-${k}`, amount: 1000, currency: "USD" },
          })
        : call("POST", `/v1/members/${m.id}/redemptions`, {
            key: p.keys.storefront,
            idempotencyKey: k,
            body: { points: 30, reason: "conc" },
          }),
    );
    // Each request is also retried concurrently with the same key.
    const retries = keys.slice(0, 20).map((k, i) =>
      i % 2 === 0
        ? call("POST", `/v1/members/${m.id}/accruals`, {
            key: p.keys.storefront,
            idempotencyKey: k,
            body: { orderId: `conc-${k}`, amount: 1000, currency: "USD" },
          })
        : call("POST", `/v1/members/${m.id}/redemptions`, {
            key: p.keys.storefront,
            idempotencyKey: k,
            body: { points: 30, reason: "conc" },
          }),
    );
    const results = await Promise.all([...ops, ...retries]);
    const unexpected = results.filter((r) => !(r.status === 201 || (r.status === 409 && r.body.error.code === "insufficient_points")));
    expect(unexpected.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const sums = await ledgerSum(m.id);
    expect(sums.balance).toBe(sums.sum);
    expect(sums.balance).toBeGreaterThanOrEqual(0);
    expect(sums.lots).toBe(sums.balance);
    const { db } = await import("./helpers");
    const perKey = await db().$client.execute({
      sql: "SELECT request_key, COUNT(*) AS n FROM ledger_entries WHERE member_id = ? GROUP BY request_key HAVING n > 1",
      args: [m.id],
    });
    expect(perKey.rows).toHaveLength(0);
    const succeeded = results.slice(0, 100).filter((r) => r.status === 201);
    const expected = 500 + succeeded.reduce((s, r) => s + r.body.entries.reduce((t: number, e: { points: number }) => t + e.points, 0), 0);
    expect(sums.balance).toBe(expected);
  });

  it("answers bad input on ledger routes with 4xx and a code, writing nothing", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const cases: Array<[string, string, unknown, string | undefined]> = [
      ["POST", `/v1/members/${m.id}/accruals`, { orderId: "o", amount: 10.5, currency: "USD" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/accruals`, { orderId: "o", amount: -1, currency: "USD" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/accruals`, { orderId: "o", amount: 100, currency: "USD" }, undefined],
      ["POST", `/v1/members/${m.id}/accruals`, { orderId: "o", amount: 100, currency: "EUR" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/accruals`, { orderId: "o", amount: 1e300, currency: "USD" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/redemptions`, { points: 0, reason: "x" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/redemptions`, { points: 1.5, reason: "x" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/redemptions`, { points: "10", reason: "x" }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/redemptions`, { points: 10 }, uniqueKey()],
      ["POST", `/v1/members/${m.id}/adjustments`, { points: 0, reason: "x" }, uniqueKey()],
      ["POST", `/v1/orders/x/refunds`, { amount: 0 }, uniqueKey()],
      ["GET", `/v1/members/${m.id}/ledger?limit=0`, undefined, undefined],
      ["GET", `/v1/members/${m.id}/ledger?limit=abc`, undefined, undefined],
    ];
    for (const [method, path, body, idempotencyKey] of cases) {
      const res = await call(method, path, { key: p.keys.admin, body, idempotencyKey });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(typeof res.body.error.code).toBe("string");
    }
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 0, balance: 0 });
  });
});
