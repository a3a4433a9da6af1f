// Checkout holds: reserve (capture: false), capture (all or part, the rest back), void, expiry by
// the member's Durable Object alarm, capture after expiry 409, reverse of a captured redemption
// back to the original lots with their original expiry, partial reversals bounded; a cancelled
// coupon's points back to their lots. All idempotent, all through the member's object.
import { describe, expect, it } from "vitest";
import { checkoutChains, reservesSettled } from "../stress/checkout-workload";
import { ledgerViolations } from "../stress/ledger-workload";
import { accrue, call, callDirect, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;
const zeroViolations = async (programId: string) => {
  const v = await ledgerViolations(db(), programId);
  expect(v).toEqual(Object.fromEntries(Object.keys(v).map((k) => [k, 0])));
};
const lotsOf = async (memberId: string) =>
  (
    await sql("SELECT id, points, remaining, expires_at AS expiresAt FROM point_lots WHERE member_id = ? ORDER BY expires_at, id", [
      memberId,
    ])
  ).map((r) => ({ id: String(r.id), points: Number(r.points), remaining: Number(r.remaining), expiresAt: String(r.expiresAt) }));
const reserve = (p: TestProgram, memberId: string, points: number, extra: Record<string, unknown> = {}, idempotencyKey = uniqueKey()) =>
  call("POST", `/v1/members/${memberId}/redemptions`, {
    key: p.keys.storefront,
    idempotencyKey,
    body: { points, reason: "checkout", capture: false, ...extra },
  });
const settle = (
  p: TestProgram,
  id: string,
  verb: "capture" | "void" | "reverse",
  body?: unknown,
  idempotencyKey = uniqueKey(),
  key = p.keys.storefront,
) => call("POST", `/v1/redemptions/${id}/${verb}`, { key, idempotencyKey, body });
const balance = async (p: TestProgram, memberId: string) =>
  (await call("GET", `/v1/members/${memberId}/balance`, { key: p.keys.storefront })).body;

/** A member with two lots: 100 points expiring in 30 days (a purchase) and 300 in 60 (program expiry changed in between). */
async function memberWithTwoLots() {
  const p = await newProgram({ basePointsPerUnit: 1, expiryDays: 30 });
  const m = await newMember(p);
  await accrue(p, m.id, 10_000);
  await db().$client.execute({ sql: "UPDATE programs SET expiry_days = 60 WHERE id = ?", args: [p.programId] });
  await accrue(p, m.id, 30_000);
  return { p, m, lots: await lotsOf(m.id) };
}

describe("checkout holds", () => {
  it("reserve → balance shows reserved; partial capture releases the rest to the later-expiring lot; a retry replays", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const key = uniqueKey();
    const r = await reserve(p, m.id, 250, {}, key);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.redemption).toMatchObject({ status: "reserved", points: 250, reservedPoints: 250, capturedPoints: 0 });
    expect(Date.parse(r.body.redemption.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(r.body.balance).toEqual({ available: 150, pending: 0, reserved: 250, total: 150, debt: 0 });
    expect(await balance(p, m.id)).toMatchObject({ available: 150, reserved: 250 });
    expect((await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront })).body.balance).toMatchObject({ reserved: 250 });
    // The same key answers the same reserve; nothing is reserved twice.
    const again = await reserve(p, m.id, 250, {}, key);
    expect(again.body).toEqual(r.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    // Capture 200: 50 go back to the lot that expires last (lot 2), with its expiry.
    const id = r.body.redemption.id;
    const captureKey = uniqueKey();
    const c = await settle(p, id, "capture", { points: 200 }, captureKey);
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body).toMatchObject({ redemption: { status: "captured", capturedPoints: 200, reservedPoints: 0 }, pointsReturned: 50 });
    expect(c.body.balance).toEqual({ available: 200, pending: 0, reserved: 0, total: 200, debt: 0 });
    expect(await lotsOf(m.id)).toEqual([
      { ...lots[0], remaining: 0 },
      { ...lots[1], remaining: 200 },
    ]);
    expect((await settle(p, id, "capture", { points: 200 }, captureKey)).body).toEqual(c.body);
    // A second capture (new key) or a void of a captured redemption: 409, nothing changes.
    expect((await settle(p, id, "capture")).body.error.code).toBe("conflict");
    expect((await settle(p, id, "void")).body.error.code).toBe("conflict");
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 200, balance: 200, lots: 200 });
    await zeroViolations(p.programId);
  });

  it("void returns every reserved point to its original lot; a capture larger than the reserve is refused", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const r = await reserve(p, m.id, 150);
    const id = r.body.redemption.id;
    expect((await settle(p, id, "capture", { points: 151 })).body.error.code).toBe("conflict");
    const v = await settle(p, id, "void");
    expect(v.body).toMatchObject({
      redemption: { status: "voided", capturedPoints: 0 },
      pointsReturned: 150,
      balance: { available: 400, reserved: 0 },
    });
    expect(await lotsOf(m.id)).toEqual(lots);
    expect((await settle(p, id, "capture")).body.error.code).toBe("conflict");
    // The database's second line: a settled reserve's status cannot change, whoever writes.
    await expect(db().$client.execute({ sql: "UPDATE redemptions SET status = 'captured' WHERE id = ?", args: [id] })).rejects.toThrow(
      /redemption_settled/,
    );
    await zeroViolations(p.programId);
  });

  it("an uncaptured reserve expires by the member's Durable Object alarm; capturing it afterwards is 409 redemption_expired", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const r = await reserve(p, m.id, 120, { holdSeconds: 1 });
    const id = r.body.redemption.id;
    let status = "reserved";
    for (let i = 0; i < 50 && status === "reserved"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await call("GET", `/v1/redemptions/${id}`, { key: p.keys.storefront })).body.status;
    }
    expect(status).toBe("expired");
    expect(await balance(p, m.id)).toMatchObject({ available: 400, reserved: 0, total: 400 });
    expect(await lotsOf(m.id)).toEqual(lots);
    const late = await settle(p, id, "capture");
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("redemption_expired");
    const [expiry] = await sql(
      "SELECT origin, idempotency_key AS k FROM ledger_requests WHERE operation = 'redemption.expire' AND member_id = ?",
      [m.id],
    );
    expect(expiry).toMatchObject({ origin: "system", k: `hold:${id}:expire` });
    await zeroViolations(p.programId);
  });

  it("a reserve past its time cannot be captured even before the alarm ran", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    await accrue(p, m.id, 10_000);
    const r = await reserve(p, m.id, 10, { holdSeconds: 1 });
    await db().$client.execute({
      sql: "UPDATE redemptions SET expires_at = ? WHERE id = ?",
      args: ["2000-01-01T00:00:00.000Z", r.body.redemption.id],
    });
    expect((await settle(p, r.body.redemption.id, "capture")).body.error.code).toBe("redemption_expired");
  });

  it("reverse a captured redemption in parts, back to the original lots with their original expiry, never more than captured", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const r = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 250, reason: "checkout" },
    });
    expect(r.body.redemption).toMatchObject({ status: "captured", capturedPoints: 250 });
    const id = r.body.redemption.id;
    // 250 took lot 1 (100) and 150 of lot 2. Reversing 100 gives lot 2 its 100 back first (it expires last).
    const key = uniqueKey();
    const first = await settle(p, id, "reverse", { points: 100 }, key);
    expect(first.body).toMatchObject({ redemption: { reversedPoints: 100 }, pointsReturned: 100, balance: { available: 250 } });
    expect(first.body.entries).toEqual([expect.objectContaining({ type: "return", points: 100, sourceType: "redemption", sourceId: id })]);
    expect((await settle(p, id, "reverse", { points: 100 }, key)).body).toEqual(first.body);
    expect(await lotsOf(m.id)).toEqual([
      { ...lots[0], remaining: 0 },
      { ...lots[1], remaining: 250 },
    ]);
    // 151 more would exceed what is left (150).
    const over = await settle(p, id, "reverse", { points: 151 });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe("reversal_exceeds_redemption");
    // The rest: lot 2's last 50, then lot 1's 100, each with its own expiry.
    const rest = await settle(p, id, "reverse");
    expect(rest.body).toMatchObject({ redemption: { reversedPoints: 250 }, pointsReturned: 150 });
    expect(await lotsOf(m.id)).toEqual(lots);
    expect((await settle(p, id, "reverse", { points: 1 })).body.error.code).toBe("reversal_exceeds_redemption");
    // Only a captured redemption can be reversed.
    const held = await reserve(p, m.id, 10);
    expect((await settle(p, held.body.redemption.id, "reverse")).body.error.code).toBe("conflict");
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 390, balance: 390, lots: 390 });
    await zeroViolations(p.programId);
  });

  it("a reversal whose lot expired meanwhile returns nothing to it: those points lapse", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const r = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 150, reason: "checkout" },
    });
    // Lot 1 (100 of the 150) has passed its expiry by the time the order is cancelled.
    await db().$client.execute({
      sql: "UPDATE point_lots SET expires_at = ? WHERE id = ?",
      args: ["2000-01-01T00:00:00.000Z", lots[0].id],
    });
    const back = await settle(p, r.body.redemption.id, "reverse");
    expect(back.body).toMatchObject({ pointsReturned: 50, pointsLapsed: 100, redemption: { reversedPoints: 150 } });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 300, balance: 300, lots: 300 });
  });

  it("cancelling an unused coupon returns its points to the lots they came from, with their expiry", async () => {
    const { p, m, lots } = await memberWithTwoLots();
    const reward = await call("POST", "/v1/rewards", { key: p.keys.admin, body: { name: "Mug", kind: "experience", pointsCost: 150 } });
    const redeemed = await call("POST", `/v1/members/${m.id}/rewards/${reward.body.id}/redeem`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
    });
    expect(redeemed.status).toBe(201);
    const cancel = await call("POST", `/v1/coupons/${redeemed.body.coupon.code}/cancel`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body).toMatchObject({ pointsReturned: 150 });
    expect(cancel.body.entries).toEqual([expect.objectContaining({ type: "return", points: 150, sourceType: "coupon" })]);
    // No new lot: the original two hold their points again.
    expect(await lotsOf(m.id)).toEqual(lots);
    await zeroViolations(p.programId);
  });
});

describe("the quote with a planned redemption", () => {
  it("answers the cart's points after the discount and whether the member can afford the redemption", async () => {
    const { p, m } = await memberWithTwoLots();
    const quote = (body: Record<string, unknown>) =>
      call("POST", "/v1/quote", { key: p.keys.storefront, body: { memberId: m.id, amount: 10_000, currency: "USD", ...body } });
    const plain = await quote({});
    expect(plain.body.points).toBe(100);
    const planned = await quote({
      items: [{ sku: "A", quantity: 2, unitPrice: 5_000 }],
      redemption: { points: 200, discount: 2_000 },
    });
    expect(planned.status, JSON.stringify(planned.body)).toBe(200);
    expect(planned.body.points).toBe(80);
    expect(planned.body.redemption).toEqual({
      points: 200,
      discount: 2_000,
      amountAfterDiscount: 8_000,
      available: 400,
      affordable: true,
      availableAfter: 200,
    });
    expect((await quote({ redemption: { points: 401, discount: 1 } })).body.redemption).toMatchObject({
      affordable: false,
      availableAfter: -1,
    });
    // The accrual of what is paid after the discount earns what the quote said.
    expect((await accrue(p, m.id, 8_000)).body.pointsEarned).toBe(80);
    // A guest: no balance to check; a discount above the cart is a 400.
    const guest = await call("POST", "/v1/quote", {
      key: p.keys.storefront,
      body: { amount: 10_000, currency: "USD", redemption: { points: 5, discount: 500 } },
    });
    expect(guest.body.redemption).toMatchObject({ amountAfterDiscount: 9_500, available: null, affordable: null });
    expect((await quote({ redemption: { points: 5, discount: 10_001 } })).status).toBe(400);
  });
});

describe("checkout holds and erasure", () => {
  it("erasure replaces a redemption's free-text reason; the hold still settles after it", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p, { email: "holder@example.com" });
    await accrue(p, m.id, 10_000);
    const held = await reserve(p, m.id, 40, { reason: "gift for holder@example.com" });
    expect((await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.admin })).status).toBe(200);
    expect(await sql("SELECT reason FROM redemptions WHERE member_id = ?", [m.id])).toEqual([
      expect.objectContaining({ reason: "Redemption" }),
    ]);
    // The books still close: the reserve can be voided, its points back.
    expect((await settle(p, held.body.redemption.id, "void")).body).toMatchObject({ pointsReturned: 40 });
    await zeroViolations(p.programId);
  });
});

describe("checkout holds under concurrency", () => {
  it("100 concurrent reserve/capture/void/expire/reverse chains on one member: balance = Σ ledger, never negative, every reserve settled", async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey(),
      body: { points: 1_000, reason: "float" },
    });
    const { kept, problems } = await checkoutChains(
      (method, path, idempotencyKey, body) =>
        callDirect(method, path, { key: p.keys.storefront, idempotencyKey: idempotencyKey ?? undefined, body }),
      m.id,
      100,
      uniqueKey,
    );
    expect(problems).toEqual([]);
    expect(await reservesSettled(db(), m.id)).toBe(true);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 1_000 - kept, balance: 1_000 - kept, lots: 1_000 - kept });
    expect(await balance(p, m.id)).toMatchObject({ reserved: 0, available: 1_000 - kept });
    await zeroViolations(p.programId);
  });
});

describe("checkout holds: who may settle them", () => {
  it("another program's keys cannot read, capture, void or reverse this program's redemption; a partner key cannot at all", async () => {
    const { p, m } = await memberWithTwoLots();
    const other = await newProgram();
    const held = await reserve(p, m.id, 50);
    const captured = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 50, reason: "x" },
    });
    for (const key of [other.keys.storefront, other.keys.admin]) {
      expect((await call("GET", `/v1/redemptions/${held.body.redemption.id}`, { key })).status).toBe(404);
      expect((await settle(p, held.body.redemption.id, "capture", undefined, uniqueKey(), key)).status).toBe(404);
      expect((await settle(p, held.body.redemption.id, "void", undefined, uniqueKey(), key)).status).toBe(404);
      expect((await settle(p, captured.body.redemption.id, "reverse", undefined, uniqueKey(), key)).status).toBe(404);
    }
    for (const verb of ["capture", "void"] as const)
      expect((await settle(p, held.body.redemption.id, verb, undefined, uniqueKey(), p.keys.partner)).status).toBe(403);
    expect((await settle(p, captured.body.redemption.id, "reverse", undefined, uniqueKey(), p.keys.partner)).status).toBe(403);
    // Nothing moved.
    expect((await call("GET", `/v1/redemptions/${held.body.redemption.id}`, { key: p.keys.storefront })).body.status).toBe("reserved");
    expect(await balance(p, m.id)).toMatchObject({ available: 300, reserved: 50 });
    // A key reused for another redemption's capture is an idempotency conflict, not a second capture.
    const k = uniqueKey();
    expect((await settle(p, held.body.redemption.id, "capture", undefined, k)).status).toBe(200);
    const second = await reserve(p, m.id, 10);
    expect((await settle(p, second.body.redemption.id, "capture", undefined, k)).body.error.code).toBe("idempotency_conflict");
    // Bad input is a 400.
    expect((await reserve(p, m.id, 10, { holdSeconds: 8 * 86_400 })).status).toBe(400);
    expect((await settle(p, second.body.redemption.id, "capture", { points: 0 })).status).toBe(400);
  });
});
