// lot_allocations: the one record of which lots each debit used, written in the debit's own batch
// (redeem, reward redemption, refund reversal, debit adjustment, expiry, debt repayment), kept
// through erasure. And the release sweep racing refunds on held lots: pending is derived from
// the lots, so no pending points are subtracted twice.
import { describe, expect, it } from "vitest";
import { expireLots, releasePendingLots } from "../../src/services/ledger/lots";
import { ledgerViolations } from "../stress/ledger-workload";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;
const zeroViolations = async (programId: string) => {
  const v = await ledgerViolations(db(), programId);
  expect(v).toEqual(Object.fromEntries(Object.keys(v).map((k) => [k, 0])));
};
const allocationsOf = async (entryId: string) =>
  (await sql("SELECT lot_id AS lotId, points FROM lot_allocations WHERE entry_id = ? ORDER BY points DESC", [entryId])).map((r) => ({
    lotId: String(r.lotId),
    points: Number(r.points),
  }));
const lotsOf = async (memberId: string) =>
  (await sql("SELECT id, points, remaining FROM point_lots WHERE member_id = ? ORDER BY id", [memberId])).map((r) => ({
    id: String(r.id),
    points: Number(r.points),
    remaining: Number(r.remaining),
  }));
const post = (p: TestProgram, path: string, body: unknown, key = p.keys.storefront) =>
  call("POST", path, { key, idempotencyKey: uniqueKey(), body });

describe("lot allocations", () => {
  it("every debit records the lots it took, in its own batch, and erasure keeps them", async () => {
    const p = await newProgram({ basePointsPerUnit: 1, expiryDays: 30 });
    const m = await newMember(p, { email: "alloc@example.com", name: "Alloc Member" });
    const orderA = uniqueKey("order");
    await accrue(p, m.id, 10_000, { orderId: orderA }); // lot A: 100, expires in 30 days
    await post(p, `/v1/members/${m.id}/adjustments`, { points: 300, reason: "bonus" }, p.keys.admin); // lot B: 300
    const [lotA, lotB] = await lotsOf(m.id);

    // A redemption of 150 takes lot A (first to expire; same date → older first) then 50 of lot B.
    const r = await post(p, `/v1/members/${m.id}/redemptions`, { points: 150, reason: "checkout" });
    expect(r.status).toBe(201);
    expect(await allocationsOf(r.body.entries[0].id)).toEqual([
      { lotId: lotA.id, points: 100 },
      { lotId: lotB.id, points: 50 },
    ]);

    // A debit adjustment, a reward redemption.
    const adj = await post(p, `/v1/members/${m.id}/adjustments`, { points: -20, reason: "correction" }, p.keys.admin);
    expect(await allocationsOf(adj.body.entries[0].id)).toEqual([{ lotId: lotB.id, points: 20 }]);
    const reward = await post(p, "/v1/rewards", { name: "Mug", kind: "experience", pointsCost: 30 }, p.keys.admin);
    const rr = await call("POST", `/v1/members/${m.id}/rewards/${reward.body.id}/redeem`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
    });
    expect(rr.status).toBe(201);
    expect(await allocationsOf(rr.body.entries[0].id)).toEqual([{ lotId: lotB.id, points: 30 }]);

    // A refund of order A (its lot is spent): the reversal takes from lot B, the rest is owed.
    const orderC = uniqueKey("order");
    await accrue(p, m.id, 5_000, { orderId: orderC }); // lot C: 50
    const lotC = (await lotsOf(m.id))[2];
    const refund = await post(p, `/v1/orders/${orderC}/refunds`, { amount: 5_000 });
    expect(await allocationsOf(refund.body.entries[0].id)).toEqual([{ lotId: lotC.id, points: 50 }]);

    // Expiry: the sweep's entry and its allocation, in the same batch.
    await expireLots(db(), new Date(Date.now() + 40 * DAY), 500, { programId: p.programId });
    const [expired] = await sql("SELECT id FROM ledger_entries WHERE member_id = ? AND type = 'expire' AND source_id = ?", [m.id, lotB.id]);
    expect(await allocationsOf(String(expired.id))).toEqual([{ lotId: lotB.id, points: 200 }]);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 0, balance: 0, lots: 0 });
    await zeroViolations(p.programId);

    // Erasure scrubs personal data, never the allocations (they hold none).
    const before = await sql("SELECT entry_id, lot_id, points FROM lot_allocations WHERE member_id = ? ORDER BY entry_id, lot_id", [m.id]);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect((await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.admin })).status).toBe(200);
    expect(await sql("SELECT entry_id, lot_id, points FROM lot_allocations WHERE member_id = ? ORDER BY entry_id, lot_id", [m.id])).toEqual(
      before,
    );
    await zeroViolations(p.programId);
  });

  it("a debt repayment is allocated to the new lot it reduced", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    await accrue(p, m.id, 10_000, { orderId });
    await post(p, `/v1/members/${m.id}/redemptions`, { points: 100, reason: "spent" });
    await post(p, `/v1/orders/${orderId}/refunds`, { amount: 10_000 });
    const next = await accrue(p, m.id, 25_000);
    const repayment = next.body.entries.find((e: { type: string }) => e.type === "debt");
    const newest = (await lotsOf(m.id)).at(-1);
    expect(newest).toMatchObject({ points: 250, remaining: 150 });
    expect(await allocationsOf(repayment.id)).toEqual([{ lotId: newest?.id, points: 100 }]);
    await zeroViolations(p.programId);
  });
});

describe("release sweep vs refunds (hold days > 0)", () => {
  it("refunds of held points racing the release sweep never subtract the same pending points twice", async () => {
    // Each member in their own program, so each sweep releases exactly that member's lots. Per
    // order: held points are earned, then refunded in small steps while a sweep releases them
    // part-way through (after a varying delay): some releases commit inside a refund's plan,
    // between its reads (the lot still pending) and its write.
    const orders = 6;
    const steps = 4;
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        const p = await newProgram({ basePointsPerUnit: 1, holdDays: 3 });
        const m = await newMember(p);
        for (let i = 0; i < orders; i++) {
          const orderId = uniqueKey("order");
          expect((await accrue(p, m.id, 20_000, { orderId })).status).toBe(201);
          const sweep = (async () => {
            await new Promise((resolve) => setTimeout(resolve, ((k + i * 5) % 16) * 25));
            await releasePendingLots(db(), new Date(Date.now() + 4 * DAY), 500, { programId: p.programId });
          })();
          for (let j = 0; j < steps; j++) {
            const r = await post(p, `/v1/orders/${orderId}/refunds`, { amount: 1_000 });
            expect(r.body, JSON.stringify(r.body)).toMatchObject({ pointsReversed: 10, pointsOwed: 0 });
          }
          await sweep;
        }
        return { p, m };
      }),
    );
    // pending = Σ unreleased lots (none left) and balance = Σ ledger = Σ lots, for every member.
    for (const { p, m } of results) {
      const [row] = await sql(
        "SELECT points_pending AS pending, (SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE member_id = ? AND released = 0) AS held FROM members WHERE id = ?",
        [m.id, m.id],
      );
      expect(Number(row.pending)).toBe(Number(row.held));
      const left = orders * (200 - steps * 10);
      expect(await ledgerSum(m.id)).toMatchObject({ sum: left, balance: left, lots: left, pending: 0 });
      await zeroViolations(p.programId);
    }
  });
});
