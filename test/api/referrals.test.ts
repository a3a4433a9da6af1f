import { describe, expect, it } from "vitest";
import { runScheduled } from "../../src/cron/schedule";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;
const everyMinute = () => runScheduled("* * * * *", testEnv);
const settings = { referrerPoints: 500, refereePoints: 200, maxPerMonth: 5, minOrderAmount: 3000 };

async function referralProgram(p: TestProgram, body: Record<string, unknown> = settings) {
  const res = await call("PUT", "/v1/referral-program", { key: p.keys.admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const register = (p: TestProgram, body: Record<string, unknown>) =>
  call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: uniqueKey("cust"), ...body } });
const referralOf = async (refereeId: string) => (await sql("SELECT * FROM referrals WHERE referee_id = ?", [refereeId]))[0];
const refund = (p: TestProgram, _memberId: string, orderId: string, amount: number) =>
  call("POST", `/v1/orders/${orderId}/refunds`, { key: p.keys.storefront, idempotencyKey: uniqueKey("rf"), body: { amount } });

describe("referral program settings", () => {
  it("is set by admins only, validated, audited, and readable by the storefront", async () => {
    const p = await newProgram({ settings: { lifecycle: { keep: true } } });
    expect((await call("GET", "/v1/referral-program", { key: p.keys.storefront })).body).toEqual({
      referrerPoints: 0,
      refereePoints: 0,
      maxPerMonth: null,
      minOrderAmount: 0,
    });
    await referralProgram(p);
    expect((await call("GET", "/v1/referral-program", { key: p.keys.storefront })).body).toEqual(settings);
    const stored = await sql("SELECT settings FROM programs WHERE id = ?", [p.programId]);
    expect(JSON.parse(String(stored[0].settings))).toMatchObject({ lifecycle: { keep: true }, referral: settings });
    for (const body of [
      { ...settings, referrerPoints: -1 },
      { ...settings, maxPerMonth: 0 },
      { referrerPoints: 1 },
      { ...settings, extra: 1 },
    ]) {
      const res = await call("PUT", "/v1/referral-program", { key: p.keys.admin, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect((await call("PUT", "/v1/referral-program", { key: p.keys.storefront, body: settings })).status).toBe(403);
    const audit = await sql("SELECT action, after FROM audit_log WHERE program_id = ? AND action = 'referral_program.updated'", [
      p.programId,
    ]);
    expect(audit).toHaveLength(1);
  });
});

describe("referrals", () => {
  it("rewards both sides after the referee's first qualifying purchase: referee in the same write, referrer by the minute cron", async () => {
    const p = await newProgram();
    await referralProgram(p);
    const referrer = await newMember(p, { email: "ana@example.com" });
    const reg = await register(p, { email: "bo@example.com", referralCode: referrer.referralCode.toLowerCase() });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const referee = reg.body;
    expect(await referralOf(referee.id)).toMatchObject({ referrer_id: referrer.id, status: "pending" });
    const listed = await call("GET", `/v1/members/${referrer.id}/referrals`, { key: p.keys.storefront });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.totals).toMatchObject({ count: 1, byStatus: { pending: 1 }, pointsEarned: 0 });
    const own = await call("GET", `/v1/members/${referee.id}/referrals`, { key: p.keys.storefront });
    expect(own.body.referredBy).toMatchObject({ referrerId: referrer.id, status: "pending" });

    // Below the minimum: no referral reward yet.
    const small = await accrue(p, referee.id, 2000);
    expect(small.body.referral).toBeUndefined();
    expect((await referralOf(referee.id)).status).toBe("pending");

    const orderId = uniqueKey("order");
    const big = await accrue(p, referee.id, 5000, { orderId });
    expect(big.status).toBe(201);
    expect(big.body.referral).toMatchObject({ status: "qualified", refereePoints: 200 });
    expect(big.body.balance).toEqual({ available: 20 + 50 + 200, pending: 0, reserved: 0, total: 270, debt: 0 });
    expect(await ledgerSum(referee.id)).toMatchObject({ sum: 270, balance: 270, lots: 270 });
    expect(await referralOf(referee.id)).toMatchObject({
      status: "qualified",
      order_id: orderId,
      referee_points: 200,
      referrer_points: 500,
    });
    expect(await sql("SELECT id FROM outbox_events WHERE member_id = ? AND type = 'referral.qualified'", [referee.id])).toHaveLength(1);
    // The referrer's points are not written by the referee's batch.
    expect((await ledgerSum(referrer.id)).sum).toBe(0);

    await everyMinute();
    expect(await ledgerSum(referrer.id)).toMatchObject({ sum: 500, balance: 500, lots: 500 });
    expect(await referralOf(referee.id)).toMatchObject({ status: "rewarded" });
    // At-least-once ticks, exactly-once credit.
    await everyMinute();
    await everyMinute();
    expect((await ledgerSum(referrer.id)).sum).toBe(500);
    const entries = await sql("SELECT type, points, source_type, request_key FROM ledger_entries WHERE member_id = ?", [referrer.id]);
    expect(entries).toEqual([expect.objectContaining({ type: "earn", points: 500, source_type: "referral" })]);
    expect(entries[0].request_key).toMatch(/^referral:ref_.+:referrer$/);
    const after = await call("GET", `/v1/members/${referrer.id}/referrals`, { key: p.keys.admin });
    expect(after.body.totals).toMatchObject({ count: 1, byStatus: { rewarded: 1 }, pointsEarned: 500 });
    expect(after.body.data[0]).toMatchObject({ refereeId: referee.id, status: "rewarded", referrerPoints: 500, refereePoints: 200 });

    // Later purchases do not pay again.
    const third = await accrue(p, referee.id, 9000);
    expect(third.body.referral).toBeUndefined();
    expect((await ledgerSum(referee.id)).sum).toBe(270 + 90);
    expect((await call("GET", `/v1/members/mem_nope/referrals`, { key: p.keys.storefront })).status).toBe(404);
  });

  it("refuses self-referral by email or phone, unknown codes, and referrers over their monthly cap", async () => {
    const p = await newProgram();
    await referralProgram(p, { ...settings, maxPerMonth: 2 });
    const referrer = await newMember(p, { email: "Carla@Example.com", phone: "+1 (555) 010-2000" });
    const sameEmail = await register(p, { email: "carla@example.com", referralCode: referrer.referralCode });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error).toMatchObject({ code: "referral_rejected", details: { reason: "same_email" } });
    const samePhone = await register(p, { phone: "+15550102000", referralCode: referrer.referralCode });
    expect(samePhone.body.error).toMatchObject({ code: "referral_rejected", details: { reason: "same_phone" } });
    expect((await register(p, { referralCode: "NOTACODE" })).body.error.code).toBe("referral_rejected");
    // Nothing was written for the refused registrations.
    expect(await sql("SELECT id FROM members WHERE program_id = ? AND referred_by = ?", [p.programId, referrer.id])).toHaveLength(0);

    // Concurrent sign-ups with one code: the cap holds (the INSERT guards it, not only the pre-check).
    const results = await Promise.all(Array.from({ length: 6 }, () => register(p, { referralCode: referrer.referralCode })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe("referral_rejected");
    }
    expect(await sql("SELECT id FROM referrals WHERE referrer_id = ?", [referrer.id])).toHaveLength(2);
    expect(await sql("SELECT id FROM members WHERE program_id = ? AND referred_by = ?", [p.programId, referrer.id])).toHaveLength(2);
    // A registration without a code is unaffected.
    expect((await register(p, {})).status).toBe(201);
  });

  it("a refund of the qualifying purchase reverses both rewards; a partial refund above the minimum does not", async () => {
    const p = await newProgram();
    await referralProgram(p);
    const referrer = await newMember(p);
    const referee = (await register(p, { referralCode: referrer.referralCode })).body;
    const orderId = uniqueKey("order");
    expect((await accrue(p, referee.id, 10_000, { orderId })).body.referral.status).toBe("qualified");
    await everyMinute();
    expect((await ledgerSum(referrer.id)).sum).toBe(500);

    // 10 000 → 5 000 net: still above 3 000, the referral stands.
    expect((await refund(p, referee.id, orderId, 5000)).status).toBe(201);
    expect((await referralOf(referee.id)).status).toBe("rewarded");
    expect((await ledgerSum(referee.id)).sum).toBe(50 + 200);

    // Down to 2 500 net: below the minimum, both sides are reversed.
    const res = await refund(p, referee.id, orderId, 2500);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await ledgerSum(referee.id)).toMatchObject({ sum: 25, balance: 25, lots: 25 });
    expect((await referralOf(referee.id)).status).toBe("reversing");
    await everyMinute();
    expect(await ledgerSum(referrer.id)).toMatchObject({ sum: 0, balance: 0, lots: 0 });
    expect((await referralOf(referee.id)).status).toBe("reversed");
    await everyMinute();
    expect((await ledgerSum(referrer.id)).sum).toBe(0);
    const reversal = await sql("SELECT points, request_key FROM ledger_entries WHERE member_id = ? AND type = 'reverse'", [referrer.id]);
    expect(reversal).toEqual([expect.objectContaining({ points: -500 })]);
    expect(reversal[0].request_key).toMatch(/:reverse$/);
    const list = await call("GET", `/v1/members/${referrer.id}/referrals`, { key: p.keys.admin });
    expect(list.body.totals).toMatchObject({ byStatus: { reversed: 1 }, pointsEarned: 0 });
  });

  it("a refund before the referrer was credited: the referrer is never paid", async () => {
    const p = await newProgram({ holdDays: 14 });
    await referralProgram(p);
    const referrer = await newMember(p);
    const referee = (await register(p, { referralCode: referrer.referralCode })).body;
    const orderId = uniqueKey("order");
    const accrual = await accrue(p, referee.id, 4000, { orderId });
    // Held like the purchase: both the purchase points and the welcome bonus are pending.
    expect(accrual.body.balance).toEqual({ available: 0, pending: 240, reserved: 0, total: 240, debt: 0 });
    expect((await refund(p, referee.id, orderId, 4000)).status).toBe(201);
    expect(await ledgerSum(referee.id)).toMatchObject({ sum: 0, balance: 0, pending: 0, lots: 0 });
    await everyMinute();
    expect((await referralOf(referee.id)).status).toBe("reversed");
    expect(await sql("SELECT id FROM ledger_entries WHERE member_id = ?", [referrer.id])).toHaveLength(0);
  });
});
