import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createLoyaltyClient, isQueuedWrite, LoyaltyApiError, type QueuedWrite } from "../../src/client";
import { db, ledgerSum, newProgram, type TestProgram, uniqueKey } from "./helpers";

// The typed client against the real Worker (and its Durable Objects), through its fetch handler.
const worker = (exports as unknown as { default: Fetcher }).default;
const workerFetch = (input: string, init: RequestInit) => worker.fetch(input, init);
const clientFor = (apiKey: string, extra: Partial<Parameters<typeof createLoyaltyClient>[0]> = {}) =>
  createLoyaltyClient({ baseUrl: "http://loyalty.test/", apiKey, fetch: workerFetch, ...extra });

/** A write's applied answer: with the database up nothing is queued (202s: test/outage). */
function applied<T extends object>(answer: T): Exclude<T, QueuedWrite> {
  if (isQueuedWrite(answer)) throw new Error(`queued unexpectedly: ${JSON.stringify(answer)}`);
  return answer as Exclude<T, QueuedWrite>;
}

let p: TestProgram;
beforeAll(async () => {
  p = await newProgram({ holdDays: 0 });
});

describe("typed client", () => {
  it("registers idempotently on externalId, then finds, reads and updates the member", async () => {
    const store = clientFor(p.keys.storefront);
    const externalId = uniqueKey("cust");
    const first = await store.members.register({ externalId, email: "ana@example.com", name: "Ana" });
    expect(first.created).toBe(true);
    expect(first.member).toMatchObject({
      externalId,
      email: "ana@example.com",
      balance: { available: 0, pending: 0, reserved: 0, total: 0, debt: 0 },
    });
    const again = await store.members.register({ externalId });
    expect(again).toMatchObject({ created: false, member: { id: first.member.id } });
    expect((await store.members.findByExternalId(externalId)).id).toBe(first.member.id);
    const updated = await store.members.update(first.member.id, { name: "Ana Silva" });
    expect(updated.name).toBe("Ana Silva");
    expect((await store.members.changeTags(first.member.id, { add: ["vip"] })).tags).toEqual(["vip"]);
  });

  it("accrues once per order (default key accrual:<orderId>), quotes the same points, redeems and refunds", async () => {
    const store = clientFor(p.keys.storefront);
    const { member } = await store.members.register({ externalId: uniqueKey("cust") });
    const cart = { amount: 12_999, currency: "USD", items: [{ sku: "SHOE-1", category: "shoes", quantity: 1, unitPrice: 12_999 }] };
    const quote = await store.points.quote({ memberId: member.id, ...cart });
    const orderId = uniqueKey("order");
    const earned = applied(await store.points.accrue(member.id, { orderId, ...cart }));
    expect(earned.entries[0]).toMatchObject({ type: "earn", points: quote.points });
    // The same order again (a retry, a resubmitted checkout) replays the original result.
    const replay = await store.points.accrue(member.id, { orderId, ...cart });
    expect(replay).toEqual(earned);
    expect((await store.members.balance(member.id)).available).toBe(quote.points);

    const spent = applied(
      await store.points.redeem(member.id, { points: 50, reason: "Checkout" }, { idempotencyKey: uniqueKey("redeem") }),
    );
    expect(spent.balance.available).toBe(quote.points - 50);
    const refunded = await store.points.refund(orderId, { amount: 12_999 }, { idempotencyKey: uniqueKey("refund") });
    expect(refunded.entries.some((e) => e.type === "reverse")).toBe(true);
    const sums = await ledgerSum(member.id);
    expect(sums.sum).toBe(sums.balance);
    const page = await store.members.ledger(member.id, { limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();

    // `fresh` reads past the member's cached view, for a change made outside the ledger (a cron's).
    expect((await store.members.get(member.id)).balance.total).toBe(sums.balance);
    await db().$client.execute({ sql: "UPDATE members SET value_segment = 'vip' WHERE id = ?", args: [member.id] });
    expect((await store.members.get(member.id)).analytics.valueSegment).not.toBe("vip");
    expect((await store.members.get(member.id, { fresh: true })).analytics.valueSegment).toBe("vip");
  });

  it("reserves at checkout, captures part (the rest comes back), voids another, reverses a captured one", async () => {
    const store = clientFor(p.keys.storefront);
    const { member } = await store.members.register({ externalId: uniqueKey("cust") });
    await store.points.accrue(member.id, { orderId: uniqueKey("order"), amount: 20_000, currency: "USD" });
    const held = applied(
      await store.points.redeem(member.id, { points: 120, reason: "Checkout", capture: false }, { idempotencyKey: uniqueKey("hold") }),
    );
    expect(held.redemption).toMatchObject({ status: "reserved", reservedPoints: 120 });
    expect(held.balance).toMatchObject({ available: 80, reserved: 120 });
    const captured = await store.points.capture(held.redemption.id, { points: 100 }, { idempotencyKey: uniqueKey("cap") });
    expect(captured).toMatchObject({
      redemption: { status: "captured", capturedPoints: 100 },
      pointsReturned: 20,
      balance: { available: 100, reserved: 0 },
    });
    const other = applied(
      await store.points.redeem(member.id, { points: 30, reason: "Checkout", capture: false }, { idempotencyKey: uniqueKey("hold") }),
    );
    expect((await store.points.void(other.redemption.id, { idempotencyKey: uniqueKey("void") })).balance.available).toBe(100);
    const reversed = await store.points.reverse(held.redemption.id, {}, { idempotencyKey: uniqueKey("rev") });
    expect(reversed.redemption.reversedPoints).toBe(100);
    expect((await store.points.redemption(held.redemption.id)).status).toBe("captured");
    expect((await store.members.balance(member.id)).available).toBe(200);
  });

  it("throws LoyaltyApiError with the API's code, status, requestId and field details", async () => {
    const store = clientFor(p.keys.storefront);
    const { member } = await store.members.register({ externalId: uniqueKey("cust") });
    const short = await store.points.redeem(member.id, { points: 10, reason: "x" }, { idempotencyKey: uniqueKey("r") }).catch((e) => e);
    expect(short).toBeInstanceOf(LoyaltyApiError);
    expect(short).toMatchObject({ status: 409, code: "insufficient_points" });
    expect(short.requestId).toMatch(/\S/);
    const invalid = await store.points.accrue(member.id, { orderId: "o-1", amount: -5, currency: "USD" }).catch((e) => e);
    expect(invalid).toMatchObject({ status: 400, code: "invalid_request" });
    expect((invalid.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toContain("amount");
    await expect(store.members.get("mem_does_not_exist")).rejects.toMatchObject({ status: 404, code: "not_found" });
    await expect(clientFor("le_store_wrong").members.get(member.id)).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    await expect(store.members.erase(member.id)).rejects.toMatchObject({ status: 403, code: "forbidden" });
  });

  it("retries a write whose answer was lost with the same Idempotency-Key: counted once", async () => {
    let calls = 0;
    // The request reaches the Worker and is committed, but the first answer never arrives.
    const lossy = async (input: string, init: RequestInit) => {
      const res = await worker.fetch(input, init);
      if (++calls === 1) throw new TypeError("socket hang up");
      return res;
    };
    const store = clientFor(p.keys.storefront, { fetch: lossy, retries: 2 });
    const { member } = await clientFor(p.keys.storefront).members.register({ externalId: uniqueKey("cust") });
    const write = applied(await store.points.accrue(member.id, { orderId: uniqueKey("order"), amount: 5_000, currency: "USD" }));
    expect(calls).toBe(2);
    expect(write.balance.total).toBe(50);
    expect((await ledgerSum(member.id)).sum).toBe(50);
  });

  it("gives up after the configured retries with a network_error", async () => {
    let calls = 0;
    const down = async () => {
      calls++;
      throw new TypeError("connection refused");
    };
    const err = await clientFor(p.keys.storefront, { fetch: down, retries: 1 })
      .members.get("mem_x")
      .catch((e) => e);
    expect(err).toMatchObject({ status: 0, code: "network_error" });
    expect(calls).toBe(2);
  });

  it("redeems a reward into a coupon that validates, is consumed once, and is then refused", async () => {
    const admin = clientFor(p.keys.admin);
    const reward = await admin.api.POST("/v1/rewards", {
      body: { name: uniqueKey("10% off"), kind: "coupon_percent", value: 10, pointsCost: 100, costMinor: 300 },
    });
    expect(reward.response.status).toBe(201);
    const store = clientFor(p.keys.storefront);
    const { member } = await store.members.register({ externalId: uniqueKey("cust") });
    await store.points.accrue(member.id, { orderId: uniqueKey("order"), amount: 20_000, currency: "USD" });
    expect((await store.members.rewards(member.id)).data.some((r) => r.id === reward.data!.id)).toBe(true);
    const issued = await store.rewards.redeem(member.id, reward.data!.id, { idempotencyKey: uniqueKey("rw") });
    expect(issued.coupon).toMatchObject({ status: "issued", valid: true, pointsCost: 100 });
    expect(issued.balance.available).toBe(100);
    expect(await store.coupons.validate(issued.coupon.code, { memberId: member.id })).toMatchObject({ valid: true });
    const used = await store.coupons.consume(issued.coupon.code, { orderId: "order-with-coupon" });
    expect(used).toMatchObject({ status: "consumed", orderId: "order-with-coupon", valid: false });
    await expect(store.coupons.consume(issued.coupon.code)).rejects.toMatchObject({ status: 409, code: "coupon_not_valid" });
  });
});
