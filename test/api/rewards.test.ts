import { describe, expect, it } from "vitest";
import { expireCoupons } from "../../src/services/rewards/coupons";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

async function addReward(p: TestProgram, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/rewards", {
    key: p.keys.admin,
    body: { name: "10% off", kind: "coupon_percent", value: 10, pointsCost: 300, costMinor: 250, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; inventoryRemaining: number | null };
}

/** A member with `points` available (one purchase at 1 point per 1.00). */
async function memberWithPoints(p: TestProgram, points: number, extra: Record<string, unknown> = {}) {
  const m = await newMember(p, extra);
  if (points > 0) expect((await accrue(p, m.id, points * 100)).status).toBe(201);
  return m;
}

const redeem = (p: TestProgram, memberId: string, rewardId: string, idempotencyKey = uniqueKey("rdm")) =>
  call("POST", `/v1/members/${memberId}/rewards/${rewardId}/redeem`, { key: p.keys.storefront, idempotencyKey });

const inventoryOf = async (rewardId: string) => (await sql("SELECT inventory_remaining AS n FROM rewards WHERE id = ?", [rewardId]))[0].n;

describe("rewards catalog", () => {
  it("creates, reads, updates and deletes rewards, audited, and refuses bad input with 4xx", async () => {
    const p = await newProgram();
    const created = await call("POST", "/v1/rewards", {
      key: p.keys.admin,
      body: {
        name: "5.00 off",
        kind: "fixed_discount",
        value: 500,
        pointsCost: 400,
        costMinor: 500,
        inventory: 100,
        perMemberLimit: 2,
        couponValidDays: 30,
        description: "Five off your next order",
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      kind: "fixed_discount",
      value: 500,
      pointsCost: 400,
      costMinor: 500,
      inventory: 100,
      inventoryRemaining: 100,
      perMemberLimit: 2,
      tierIds: [],
      active: true,
      couponValidDays: 30,
    });
    const id = created.body.id;

    const got = await call("GET", `/v1/rewards/${id}`, { key: p.keys.storefront });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    await addReward(p, { name: "Free socks", kind: "free_product", productSku: "SOCKS-1", value: null, pointsCost: 100 });
    const list = await call("GET", "/v1/rewards", { key: p.keys.admin });
    expect(list.body.data.map((r: { pointsCost: number }) => r.pointsCost)).toEqual([100, 400]);

    const patched = await call("PATCH", `/v1/rewards/${id}`, { key: p.keys.admin, body: { inventory: 120, pointsCost: 450 } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ inventory: 120, inventoryRemaining: 120, pointsCost: 450, value: 500, perMemberLimit: 2 });

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ name: "x", kind: "coupon_percent", pointsCost: 10 }, "value"],
      [{ name: "x", kind: "coupon_percent", value: 150, pointsCost: 10 }, "value"],
      [{ name: "x", kind: "fixed_discount", pointsCost: 10 }, "value"],
      [{ name: "x", kind: "free_product", pointsCost: 10 }, "productSku"],
      [{ name: "x", kind: "experience", pointsCost: 0 }, "pointsCost"],
      [{ name: "x", kind: "experience", pointsCost: 10.5 }, "pointsCost"],
      [{ name: "x", kind: "voucher", pointsCost: 10 }, "kind"],
      [{ name: "x", kind: "experience", pointsCost: 10, startsAt: "2030-01-02T00:00:00Z", endsAt: "2030-01-01T00:00:00Z" }, "endsAt"],
      [{ name: "x", kind: "experience", pointsCost: 10, tierIds: ["tier_nope"] }, "tierIds"],
      [{ name: "x", kind: "experience", pointsCost: 10, inventory: -1 }, "inventory"],
      [{ name: "x", kind: "experience", pointsCost: 10, surprise: true }, "surprise"],
    ];
    for (const [body, field] of bad) {
      const res = await call("POST", "/v1/rewards", { key: p.keys.admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain(field);
    }
    const badPatch = await call("PATCH", `/v1/rewards/${id}`, { key: p.keys.admin, body: { kind: "coupon_percent" } });
    expect(badPatch.status).toBe(400);
    expect((await call("PATCH", `/v1/rewards/${id}`, { key: p.keys.admin, body: {} })).status).toBe(400);
    expect(
      (await call("POST", "/v1/rewards", { key: p.keys.storefront, body: { name: "x", kind: "experience", pointsCost: 10 } })).status,
    ).toBe(403);
    expect(
      (await call("POST", "/v1/rewards", { key: p.keys.admin, rawBody: "{not json", headers: { "content-type": "application/json" } }))
        .status,
    ).toBe(400);

    // Another program's reward is a 404.
    const other = await newProgram();
    expect((await call("GET", `/v1/rewards/${id}`, { key: other.keys.admin })).status).toBe(404);
    expect((await call("PATCH", `/v1/rewards/${id}`, { key: other.keys.admin, body: { active: false } })).status).toBe(404);

    const audit = await sql("SELECT action FROM audit_log WHERE program_id = ? AND entity_id = ? ORDER BY created_at, id", [
      p.programId,
      id,
    ]);
    expect(audit.map((r) => r.action)).toEqual(["reward.created", "reward.updated"]);
    expect((await call("DELETE", `/v1/rewards/${id}`, { key: p.keys.admin })).status).toBe(204);
    expect((await call("GET", `/v1/rewards/${id}`, { key: p.keys.admin })).status).toBe(404);
  });

  it("lists what a member can see with affordable and eligible flags", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 500);
    const cheap = await addReward(p, { name: "Cheap", pointsCost: 100 });
    const dear = await addReward(p, { name: "Dear", pointsCost: 1000 });
    const soldOut = await addReward(p, { name: "Sold out", pointsCost: 50, inventory: 0 });
    await addReward(p, { name: "Inactive", pointsCost: 10, active: false });
    await addReward(p, { name: "Later", pointsCost: 10, startsAt: new Date(Date.now() + 86_400_000).toISOString() });
    await addReward(p, { name: "Over", pointsCost: 10, startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-02-01T00:00:00Z" });
    const res = await call("GET", `/v1/members/${m.id}/rewards`, { key: p.keys.storefront });
    expect(res.status).toBe(200);
    expect(res.body.balance).toEqual({ available: 500, pending: 0, reserved: 0, total: 500, debt: 0 });
    const byId = Object.fromEntries(res.body.data.map((r: { id: string }) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual([cheap.id, dear.id, soldOut.id].sort());
    expect(byId[cheap.id]).toMatchObject({ affordable: true, eligible: true, reason: null });
    expect(byId[dear.id]).toMatchObject({ affordable: false, eligible: true });
    expect(byId[soldOut.id]).toMatchObject({ affordable: true, eligible: false, reason: { code: "out_of_stock" } });
    expect(byId[cheap.id].costMinor).toBeUndefined();
    expect((await call("GET", `/v1/members/mem_nope/rewards`, { key: p.keys.storefront })).status).toBe(404);
  });
});

describe("reward redemption", () => {
  it("debits points, issues a unique coupon, takes one unit of stock; a replay returns the same coupon", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 1000);
    const reward = await addReward(p, { inventory: 5, couponValidDays: 30 });
    const key = uniqueKey("rdm");
    const res = await redeem(p, m.id, reward.id, key);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.balance).toEqual({ available: 700, pending: 0, reserved: 0, total: 700, debt: 0 });
    expect(res.body.coupon).toMatchObject({
      status: "issued",
      valid: true,
      memberId: m.id,
      value: 10,
      pointsCost: 300,
      reward: { id: reward.id, kind: "coupon_percent" },
    });
    expect(res.body.coupon.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(Date.parse(res.body.coupon.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(res.body.entries).toHaveLength(1);
    expect(res.body.entries[0]).toMatchObject({ type: "redeem", points: -300, sourceType: "reward", sourceId: reward.id });
    expect(await inventoryOf(reward.id)).toBe(4);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 700, balance: 700, lots: 700 });
    const events = await sql("SELECT payload FROM outbox_events WHERE member_id = ? AND type = 'reward.issued'", [m.id]);
    expect(events).toHaveLength(1);
    expect(JSON.parse(String(events[0].payload))).toMatchObject({
      rewardId: reward.id,
      code: res.body.coupon.code,
      costMinor: 250,
      pointsCost: 300,
    });

    const replay = await redeem(p, m.id, reward.id, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(res.body);
    expect(await sql("SELECT code FROM coupons WHERE member_id = ?", [m.id])).toHaveLength(1);
    expect(await inventoryOf(reward.id)).toBe(4);
    expect((await ledgerSum(m.id)).sum).toBe(700);

    // The same key for a different reward is a conflict, not a second coupon.
    const other = await addReward(p, { name: "Other" });
    expect((await redeem(p, m.id, other.id, key)).body.error.code).toBe("idempotency_conflict");
    // Missing key, unknown reward, other program's member.
    expect((await call("POST", `/v1/members/${m.id}/rewards/${reward.id}/redeem`, { key: p.keys.storefront })).status).toBe(400);
    expect((await redeem(p, m.id, "rwd_nope")).status).toBe(404);
    const q = await newProgram();
    expect(
      (await call("POST", `/v1/members/${m.id}/rewards/${reward.id}/redeem`, { key: q.keys.storefront, idempotencyKey: uniqueKey() }))
        .status,
    ).toBe(404);
    expect(
      (await call("POST", `/v1/members/${m.id}/rewards/${reward.id}/redeem`, { key: p.keys.partner, idempotencyKey: uniqueKey() })).status,
    ).toBe(403);

    // Restocking moves the remaining stock by the difference; not below what is issued.
    const tooLow = await call("PATCH", `/v1/rewards/${reward.id}`, { key: p.keys.admin, body: { inventory: 0 } });
    expect(tooLow.status).toBe(409);
    expect(await inventoryOf(reward.id)).toBe(4);
    const restocked = await call("PATCH", `/v1/rewards/${reward.id}`, { key: p.keys.admin, body: { inventory: 3 } });
    expect(restocked.body).toMatchObject({ inventory: 3, inventoryRemaining: 2 });
    const unlimited = await call("PATCH", `/v1/rewards/${reward.id}`, { key: p.keys.admin, body: { inventory: null } });
    expect(unlimited.body).toMatchObject({ inventory: null, inventoryRemaining: null });
    const limitedAgain = await call("PATCH", `/v1/rewards/${reward.id}`, { key: p.keys.admin, body: { inventory: 10 } });
    expect(limitedAgain.body).toMatchObject({ inventory: 10, inventoryRemaining: 9 });
  });

  it("writes nothing when points are short, the reward is inactive or outside its window", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 200);
    const reward = await addReward(p, { inventory: 3 });
    const short = await redeem(p, m.id, reward.id);
    expect(short.status).toBe(409);
    expect(short.body.error.code).toBe("insufficient_points");
    expect(await sql("SELECT id FROM coupons WHERE member_id = ?", [m.id])).toHaveLength(0);
    expect(await inventoryOf(reward.id)).toBe(3);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 200, balance: 200 });

    const inactive = await addReward(p, { pointsCost: 10, active: false });
    const ended = await addReward(p, { pointsCost: 10, startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-02-01T00:00:00Z" });
    for (const r of [inactive, ended]) {
      const res = await redeem(p, m.id, r.id);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("coupon_not_valid");
    }
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 200, balance: 200 });
  });

  it("50 concurrent redemptions across members on a reward with 10 units: exactly 10 coupons, no oversell", async () => {
    const p = await newProgram();
    const reward = await addReward(p, { inventory: 10, pointsCost: 100 });
    const ms = await Promise.all(Array.from({ length: 5 }, () => memberWithPoints(p, 1000)));
    const attempts = ms.flatMap((m) => Array.from({ length: 10 }, () => redeem(p, m.id, reward.id)));
    const results = await Promise.all(attempts);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe("out_of_stock");
    }
    expect(await inventoryOf(reward.id)).toBe(0);
    const coupons = await sql("SELECT code, member_id FROM coupons WHERE reward_id = ?", [reward.id]);
    expect(coupons).toHaveLength(10);
    expect(new Set(coupons.map((c) => c.code)).size).toBe(10);
    let spent = 0;
    for (const m of ms) {
      const s = await ledgerSum(m.id);
      const mine = coupons.filter((c) => c.member_id === m.id).length;
      expect(s.balance).toBeGreaterThanOrEqual(0);
      expect(s).toMatchObject({ sum: 1000 - 100 * mine, balance: 1000 - 100 * mine, lots: 1000 - 100 * mine });
      spent += 1000 - s.balance;
    }
    expect(spent).toBe(1000);
    const redeemEntries = await sql("SELECT COUNT(*) AS n FROM ledger_entries WHERE source_type = 'reward' AND source_id = ?", [reward.id]);
    expect(Number(redeemEntries[0].n)).toBe(10);
  });

  it("enforces the per-member limit (cancelled coupons do not count)", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 1000);
    const reward = await addReward(p, { perMemberLimit: 1 });
    const first = await redeem(p, m.id, reward.id);
    expect(first.status).toBe(201);
    const second = await redeem(p, m.id, reward.id);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("limit_reached");
    expect(second.body.error.message).toContain("1 per member");
    const listed = await call("GET", `/v1/members/${m.id}/rewards`, { key: p.keys.storefront });
    expect(listed.body.data[0]).toMatchObject({ eligible: false, reason: { code: "limit_reached" }, redeemedByMember: 1 });
    expect((await call("POST", `/v1/coupons/${first.body.coupon.code}/cancel`, { key: p.keys.storefront })).status).toBe(200);
    expect((await redeem(p, m.id, reward.id)).status).toBe(201);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 700, balance: 700, lots: 700 });
  });

  it("restricts a reward to tiers: 403 below, redeemable once the member reaches the tier", async () => {
    const p = await newProgram();
    const ladder = [
      { name: "Bronze", rank: 0, qualification: { windowDays: 365 }, benefits: {} },
      { name: "Silver", rank: 1, qualification: { windowDays: 365, minSpend: 100_000 }, benefits: {} },
    ];
    const tiers = [];
    for (const t of ladder) tiers.push((await call("POST", "/v1/tiers", { key: p.keys.admin, body: t })).body);
    const reward = await addReward(p, { name: "Silver lounge", kind: "experience", value: null, tierIds: [tiers[1].id] });
    const m = await memberWithPoints(p, 500);
    const refused = await redeem(p, m.id, reward.id);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect(refused.body.error.message).toContain("restricted to members of tier");
    expect((await call("GET", `/v1/members/${m.id}/rewards`, { key: p.keys.storefront })).body.data[0]).toMatchObject({
      eligible: false,
      reason: { code: "tier_restricted" },
    });
    expect((await ledgerSum(m.id)).sum).toBe(500);

    expect((await accrue(p, m.id, 100_000)).status).toBe(201);
    const member = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin });
    expect(member.body.tier?.id).toBe(tiers[1].id);
    const ok = await redeem(p, m.id, reward.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.coupon.reward.kind).toBe("experience");
  });
});

describe("coupons", () => {
  it("validates, consumes once, and refuses a second consume", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 1000);
    const reward = await addReward(p, { kind: "fixed_discount", value: 500 });
    const { code } = (await redeem(p, m.id, reward.id)).body.coupon;

    const valid = await call("GET", `/v1/coupons/${code.toLowerCase()}`, { key: p.keys.storefront });
    expect(valid.status).toBe(200);
    expect(valid.body).toMatchObject({
      code,
      status: "issued",
      valid: true,
      reason: null,
      memberId: m.id,
      value: 500,
      reward: { id: reward.id, kind: "fixed_discount" },
    });
    const otherMember = await call("GET", `/v1/coupons/${code}?memberId=mem_someone_else`, { key: p.keys.storefront });
    expect(otherMember.body).toMatchObject({ valid: false, reason: { code: "other_member" } });
    expect((await call("GET", "/v1/coupons/NOSUCHCODE", { key: p.keys.storefront })).status).toBe(404);
    const q = await newProgram();
    expect((await call("GET", `/v1/coupons/${code}`, { key: q.keys.storefront })).status).toBe(404);

    const consumed = await call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.storefront, body: { orderId: "order-77" } });
    expect(consumed.status).toBe(200);
    expect(consumed.body).toMatchObject({ status: "consumed", orderId: "order-77", valid: false, reason: { code: "consumed" } });
    const again = await call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.storefront, body: { orderId: "order-78" } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "coupon_not_valid", details: { reason: "consumed" } });
    const cancel = await call("POST", `/v1/coupons/${code}/cancel`, { key: p.keys.storefront });
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe("coupon_not_valid");
    expect(await sql("SELECT COUNT(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'coupon.consumed'", [m.id])).toEqual([
      expect.objectContaining({ n: 1 }),
    ]);
    expect((await call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.admin, body: {} })).status).toBe(403);
    expect((await ledgerSum(m.id)).sum).toBe(700);
  });

  it("concurrent consumes of one coupon: exactly one succeeds", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 500);
    const reward = await addReward(p, {});
    const { code } = (await redeem(p, m.id, reward.id)).body.coupon;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.storefront, body: { orderId: `o-${i}` } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await sql("SELECT COUNT(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'coupon.consumed'", [m.id])).toEqual([
      expect.objectContaining({ n: 1 }),
    ]);
  });

  it("cancel returns the points and the unit of stock, idempotently; an expired coupon cannot be used or cancelled", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 1000);
    const reward = await addReward(p, { inventory: 2 });
    const { code } = (await redeem(p, m.id, reward.id)).body.coupon;
    expect(await inventoryOf(reward.id)).toBe(1);

    const cancel = await call("POST", `/v1/coupons/${code}/cancel`, { key: p.keys.storefront });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body).toMatchObject({
      pointsReturned: 300,
      balance: { available: 1000, total: 1000 },
      coupon: { status: "cancelled", valid: false },
    });
    expect(cancel.body.entries[0]).toMatchObject({ type: "return", points: 300, sourceType: "coupon" });
    // Back to the lot it came from (the purchase's), not a new one.
    expect(Number((await sql("SELECT COUNT(*) AS n FROM point_lots WHERE member_id = ?", [m.id]))[0].n)).toBe(1);
    expect(await inventoryOf(reward.id)).toBe(2);
    const again = await call("POST", `/v1/coupons/${code}/cancel`, { key: p.keys.admin });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 1000, balance: 1000, lots: 1000 });
    expect(await inventoryOf(reward.id)).toBe(2);
    const member = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin });
    expect(member.body.lifetime.redeemed).toBe(0);
    const consume = await call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.storefront });
    expect(consume.status).toBe(409);
    expect(consume.body.error.details.reason).toBe("cancelled");

    // An expired coupon (moved into the past directly) is neither usable nor cancellable.
    const second = (await redeem(p, m.id, reward.id)).body.coupon;
    await sql("UPDATE coupons SET expires_at = ? WHERE code = ?", ["2020-01-01T00:00:00.000Z", second.code]);
    expect((await call("GET", `/v1/coupons/${second.code}`, { key: p.keys.storefront })).body).toMatchObject({
      status: "expired",
      valid: false,
      reason: { code: "expired" },
    });
    expect((await call("POST", `/v1/coupons/${second.code}/consume`, { key: p.keys.storefront })).body.error.details.reason).toBe(
      "expired",
    );
    expect((await call("POST", `/v1/coupons/${second.code}/cancel`, { key: p.keys.storefront })).body.error.code).toBe("coupon_not_valid");
    // The nightly sweep marks it expired (breakage); running it again changes nothing.
    expect((await expireCoupons({ db: db() }, new Date(), 500)).expired).toBeGreaterThanOrEqual(1);
    expect(await sql("SELECT status FROM coupons WHERE code = ?", [second.code])).toEqual([expect.objectContaining({ status: "expired" })]);
    await expireCoupons({ db: db() }, new Date(), 500);
    expect((await call("GET", `/v1/coupons/${second.code}`, { key: p.keys.storefront })).body).toMatchObject({
      status: "expired",
      valid: false,
    });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 700, balance: 700 });
  });

  it("a consume racing a cancel: exactly one wins and the books balance", async () => {
    const p = await newProgram();
    const m = await memberWithPoints(p, 3000);
    const reward = await addReward(p, { inventory: 10 });
    let consumed = 0;
    let cancelled = 0;
    for (let i = 0; i < 5; i++) {
      const { code } = (await redeem(p, m.id, reward.id)).body.coupon;
      const [use, cancel] = await Promise.all([
        call("POST", `/v1/coupons/${code}/consume`, { key: p.keys.storefront, body: { orderId: `race-${i}` } }),
        call("POST", `/v1/coupons/${code}/cancel`, { key: p.keys.storefront }),
      ]);
      expect([use.status, cancel.status].sort()).toEqual([200, 409]);
      if (use.status === 200) consumed++;
      else cancelled++;
    }
    const rows = await sql("SELECT status, COUNT(*) AS n FROM coupons WHERE member_id = ? GROUP BY status", [m.id]);
    const count = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    expect(count("consumed")).toBe(consumed);
    expect(count("cancelled")).toBe(cancelled);
    expect(await ledgerSum(m.id)).toMatchObject({
      sum: 3000 - 300 * consumed,
      balance: 3000 - 300 * consumed,
      lots: 3000 - 300 * consumed,
    });
    expect(await inventoryOf(reward.id)).toBe(10 - consumed);
  });
});
