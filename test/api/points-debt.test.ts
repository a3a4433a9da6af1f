// A refund after the points were spent: the unrecovered points become a points debt (a ledger
// entry, the balance's `debt`), repaid first from the member's next points, visible in the
// member's ledger and the KPIs; never silently gone. Balance = Σ ledger throughout.
import { describe, expect, it } from "vitest";
import { snapshotProgramDay } from "../../src/services/kpis/kpis";
import { releasePendingLots } from "../../src/services/ledger/lots";
import { ledgerViolations } from "../stress/ledger-workload";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const zeroViolations = async (programId: string) => {
  const v = await ledgerViolations(db(), programId);
  expect(v).toEqual(Object.fromEntries(Object.keys(v).map((k) => [k, 0])));
};

const redeem = (p: TestProgram, memberId: string, points: number) =>
  call("POST", `/v1/members/${memberId}/redemptions`, {
    key: p.keys.storefront,
    idempotencyKey: uniqueKey(),
    body: { points, reason: "spent" },
  });

const refund = (p: TestProgram, orderId: string, amount: number, idempotencyKey = uniqueKey()) =>
  call("POST", `/v1/orders/${orderId}/refunds`, { key: p.keys.storefront, idempotencyKey, body: { amount } });

describe("points debt", () => {
  it("earn 500, redeem 500, refund in full: 500 owed, shown as debt, repaid first from the next points", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    expect((await accrue(p, m.id, 50_000, { orderId })).body.pointsEarned).toBe(500);
    expect((await redeem(p, m.id, 500)).status).toBe(201);

    const key = uniqueKey();
    const r = await refund(p, orderId, 50_000, key);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ pointsReversed: 0, pointsOwed: 500, balance: { available: 0, pending: 0, total: 0, debt: 500 } });
    expect(r.body.entries).toEqual([
      expect.objectContaining({ type: "reverse", points: 0, debt: 500, sourceType: "order", sourceId: orderId }),
    ]);
    // A retry answers the same and owes nothing twice.
    const again = await refund(p, orderId, 50_000, key);
    expect(again.body).toEqual(r.body);
    // The order is fully reversed: a further refund is refused, nothing is claimed twice.
    expect((await refund(p, orderId, 1)).body.error.code).toBe("refund_exceeds_order");

    // The debt is in the member view, the balance and the ledger.
    const member = await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront });
    expect(member.body.balance).toEqual({ available: 0, pending: 0, reserved: 0, total: 0, debt: 500 });
    const balance = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(balance.body).toMatchObject({ available: 0, total: 0, debt: 500 });
    const ledger = await call("GET", `/v1/members/${m.id}/ledger`, { key: p.keys.storefront });
    expect(ledger.body.data[0]).toMatchObject({ type: "reverse", points: 0, debt: 500 });
    // Nothing to spend while in debt.
    expect((await redeem(p, m.id, 1)).body.error.code).toBe("insufficient_points");

    // The next 300 points all go to the debt (a ledger-visible repayment), then 400 more leave 200 to spend.
    const next = await accrue(p, m.id, 30_000);
    expect(next.body.balance).toEqual({ available: 0, pending: 0, reserved: 0, total: 0, debt: 200 });
    expect(next.body.entries).toEqual([
      expect.objectContaining({ type: "earn", points: 300, debt: 0 }),
      expect.objectContaining({ type: "debt", points: -300, debt: -300, sourceType: "debt" }),
    ]);
    const after = await accrue(p, m.id, 40_000);
    expect(after.body.balance).toEqual({ available: 200, pending: 0, reserved: 0, total: 200, debt: 0 });
    expect(after.body.entries.map((e: { type: string; points: number }) => [e.type, e.points])).toEqual([
      ["earn", 400],
      ["debt", -200],
    ]);
    const sums = await ledgerSum(m.id);
    expect(sums).toMatchObject({ sum: 200, balance: 200, lots: 200 });
    expect((await redeem(p, m.id, 200)).status).toBe(201);
    await zeroViolations(p.programId);
  });

  it("new points held for days still repay first, and refunding that purchase owes them again", async () => {
    const p = await newProgram({ basePointsPerUnit: 1, holdDays: 7 });
    const m = await newMember(p);
    const paid = uniqueKey("order");
    await accrue(p, m.id, 8_000, { orderId: paid }); // 80 points, held 7 days
    await releasePendingLots(db(), new Date(Date.now() + 8 * 86_400_000), 500, { programId: p.programId });
    expect((await redeem(p, m.id, 80)).status).toBe(201);
    const owed = await refund(p, paid, 8_000);
    expect(owed.body).toMatchObject({ pointsReversed: 0, pointsOwed: 80, balance: { total: 0, debt: 80 } });

    // 100 new points, held: 80 repay the debt at once, 20 stay pending.
    const held = uniqueKey("order");
    const next = await accrue(p, m.id, 10_000, { orderId: held });
    expect(next.body.balance).toEqual({ available: 0, pending: 20, reserved: 0, total: 20, debt: 0 });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 20, balance: 20, pending: 20, lots: 20 });
    // Refunding the purchase that repaid the debt takes its 20 and owes the 80 again.
    const back = await refund(p, held, 10_000);
    expect(back.body).toMatchObject({ pointsReversed: 20, pointsOwed: 80, balance: { total: 0, pending: 0, debt: 80 } });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 0, balance: 0, pending: 0, lots: 0 });
    await zeroViolations(p.programId);
  });

  it("a program that allows negative balances goes negative instead, and owes no debt", async () => {
    const p = await newProgram({ basePointsPerUnit: 1, allowNegativeBalance: true });
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    await accrue(p, m.id, 50_000, { orderId });
    await redeem(p, m.id, 500);
    const r = await refund(p, orderId, 50_000);
    expect(r.body).toMatchObject({ pointsReversed: 500, pointsOwed: 0, balance: { available: -500, total: -500, debt: 0 } });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: -500, balance: -500 });
  });

  it("the KPIs' points liability is net of the debt", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const spender = await newMember(p);
    const saver = await newMember(p);
    const orderId = uniqueKey("order");
    await accrue(p, spender.id, 50_000, { orderId });
    await redeem(p, spender.id, 500);
    await refund(p, orderId, 50_000);
    await accrue(p, saver.id, 120_000);
    const today = new Date().toISOString().slice(0, 10);
    const figures = await snapshotProgramDay(db(), p.programId, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    // Yesterday's snapshot sees nothing yet; today's (as of the end of today) sees the debt.
    expect(figures.points.debt).toBe(0);
    const now = await snapshotProgramDay(db(), p.programId, today);
    expect(now.points).toMatchObject({ outstanding: 1_200, debt: 500 });
    expect(now.pointsLiability.points).toBe(700);
    const dashboard = await call("GET", "/v1/analytics/dashboard", { key: p.keys.admin });
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.liability).toMatchObject({ pointsOutstanding: 1_200, pointsDebt: 500 });
  });
});
