// Bonuses the system awards itself (signup, birthday, referral) can never be claimed by a client,
// through the API or a partner event, and a rule's per-member cap holds on every path that earns
// (API, partner event, import). Before, `POST /activities {"kind":"birthday"}` earned the birthday
// rule's points on every call with a fresh Idempotency-Key, and an import ignored rule caps.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { programs } from "../../schema";
import { systemKeys } from "../../src/ledger/system-keys";
import { importTransactions } from "../../src/services/admin/bulk-import";
import { clientWriteRequest, memberLedger, systemWriteRequest } from "../../src/services/ledger/write";
import { settleReferrals } from "../../src/services/referrals/referrals";
import { awardTrigger } from "../../src/services/rules/trigger-awards";
import { accrue, call, db, ledgerSum, newMember, newProgram, partnerSignature, type TestProgram, testEnv, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

async function addRule(p: TestProgram, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/rules", { key: p.keys.admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

async function bonusProgram() {
  const p = await newProgram({ expiryDays: null });
  for (const trigger of ["signup", "birthday", "referral"])
    await addRule(p, { name: `${trigger} bonus`, trigger: { type: trigger }, effect: { type: "fixed", points: 500 } });
  return p;
}

async function postEvents(p: TestProgram, payload: unknown) {
  const raw = JSON.stringify(payload);
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) },
  });
}

const activity = (p: TestProgram, memberId: string, body: Record<string, unknown>, key = p.keys.storefront) =>
  call("POST", `/v1/members/${memberId}/activities`, { key, idempotencyKey: uniqueKey("act"), body });

describe("system-only bonuses", () => {
  it("a client reporting signup, birthday or referral as an activity gets 400 and nothing is written, with any key", async () => {
    const p = await bonusProgram();
    const m = await newMember(p);
    const before = await ledgerSum(m.id);
    const recorded = () => sql("SELECT COUNT(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'activity.recorded'", [m.id]);
    const recordedBefore = await recorded();
    for (const kind of ["birthday", "signup", "referral", " birthday "])
      for (const key of [p.keys.storefront, p.keys.partner, p.keys.admin]) {
        const res = await activity(p, m.id, { kind }, key);
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error.code).toBe("invalid_request");
        expect(res.body.error.message).toContain("the system awards itself");
        expect(res.body.error.details.fields[0].path).toBe("kind");
      }
    expect(await ledgerSum(m.id)).toEqual(before);
    // (The member's own signup bonus is the only write: a system one.)
    expect(await sql("SELECT COUNT(*) AS n FROM ledger_requests WHERE member_id = ? AND origin = 'client'", [m.id])).toEqual([
      expect.objectContaining({ n: 0 }),
    ]);
    expect(await recorded()).toEqual(recordedBefore);
    // A kind a client may report is still recorded (it earns only through `activity` rules).
    expect((await activity(p, m.id, { kind: "store_checkin" })).status).toBe(201);
    expect((await ledgerSum(m.id)).sum).toBe(before.sum);
  });

  it("a partner activity event with a system kind is refused on its own; the rest of the batch applies", async () => {
    const p = await bonusProgram();
    const m = await newMember(p);
    const before = (await ledgerSum(m.id)).sum;
    await addRule(p, { name: "Visit", trigger: { type: "activity", kind: "store_visit" }, effect: { type: "fixed", points: 5 } });
    const res = await postEvents(p, {
      events: [
        { eventId: uniqueKey("e"), type: "activity", memberId: m.id, kind: "birthday" },
        { eventId: uniqueKey("e"), type: "activity", memberId: m.id, kind: "store_visit" },
        { eventId: uniqueKey("e"), type: "activity", memberId: m.id, kind: "referral" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([400, 201, 400]);
    expect(res.body.results[0].error).toMatchObject({ code: "invalid_request" });
    expect(res.body.results[0].error.message).toContain("the system awards itself");
    expect((await ledgerSum(m.id)).sum).toBe(before + 5);
  });

  it("the member's ledger refuses a client-reported system kind and a bonus asked for under a client key", async () => {
    const p = await bonusProgram();
    const m = await newMember(p);
    const before = (await ledgerSum(m.id)).sum;
    const principal = { programId: p.programId, scope: "admin" as const };
    const body = { kind: "birthday" };
    const reported = await memberLedger(testEnv, p.programId, m.id).recordActivity(
      await clientWriteRequest({ principal, memberId: m.id, idempotencyKey: uniqueKey(), operation: "activity", body }),
      body,
    );
    expect(reported).toMatchObject({ ok: false, code: "invalid_request" });
    const bonus = await memberLedger(testEnv, p.programId, m.id).awardBonus(
      await clientWriteRequest({ principal, memberId: m.id, idempotencyKey: uniqueKey(), operation: "activity", body }),
      body,
    );
    expect(bonus).toMatchObject({ ok: false, code: "forbidden" });
    const notABonus = await memberLedger(testEnv, p.programId, m.id).awardBonus(
      await systemWriteRequest({
        programId: p.programId,
        memberId: m.id,
        idempotencyKey: systemKeys.birthday(m.id, "2001"),
        operation: "activity",
        body: {},
      }),
      { kind: "review" },
    );
    expect(notABonus).toMatchObject({ ok: false, code: "invalid_request" });
    expect((await ledgerSum(m.id)).sum).toBe(before);
  });

  it("the system still awards them: signup once per member, birthday once a year, referral once per qualified referral", async () => {
    const p = await bonusProgram();
    await call("PUT", "/v1/referral-program", {
      key: p.keys.admin,
      body: { referrerPoints: 100, refereePoints: 0, maxPerMonth: null, minOrderAmount: 0 },
    });
    // Signup: on registration, and not again when the registration is retried.
    const externalId = uniqueKey("cust");
    const reg = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId } });
    expect(reg.status).toBe(201);
    expect(reg.body.balance.total).toBe(500);
    expect((await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId } })).body.balance.total).toBe(500);
    const member = reg.body as { id: string; referralCode: string };

    // Birthday: once per year.
    const award = (year: string) => awardTrigger(testEnv, { programId: p.programId, memberId: member.id, kind: "birthday", year });
    expect(await award("2031")).toMatchObject({ ok: true, replayed: false, body: { pointsEarned: 500 } });
    expect(await award("2031")).toMatchObject({ ok: true, replayed: true });
    expect(await award("2032")).toMatchObject({ ok: true, replayed: false, body: { pointsEarned: 500 } });
    expect((await ledgerSum(member.id)).sum).toBe(1500);

    // Referral: the referrer earns the referral rule with the program's referrerPoints, once.
    const referee = await newMember(p, { referralCode: member.referralCode });
    expect((await accrue(p, referee.id, 1000)).body.referral).toMatchObject({ status: "qualified" });
    for (let i = 0; i < 2; i++) await settleReferrals(testEnv, db(), 100, new Date(), { programId: p.programId });
    const [referral] = await sql("SELECT status, referrer_points FROM referrals WHERE referee_id = ?", [referee.id]);
    expect(referral).toMatchObject({ status: "rewarded", referrer_points: 600 });
    expect((await ledgerSum(member.id)).sum).toBe(1500 + 600);
    const entries = await sql("SELECT points, source_type, metadata FROM ledger_entries WHERE member_id = ? AND source_type = 'referral'", [
      member.id,
    ]);
    expect(entries).toHaveLength(1);
    expect(Number(entries[0].points)).toBe(600);
    // The referee's own signup bonus came with registration; nobody can claim a referral by hand.
    expect((await activity(p, referee.id, { kind: "referral" })).status).toBe(400);
  });

  it("a rule's per-member cap holds across the API and partner events", async () => {
    const p = await newProgram({ expiryDays: null });
    await addRule(p, {
      name: "Check-in",
      trigger: { type: "activity", kind: "store_checkin" },
      effect: { type: "fixed", points: 10 },
      capPerMember: 25,
    });
    const m = await newMember(p);
    const viaPartner = async () => {
      const res = await postEvents(p, { eventId: uniqueKey("e"), type: "activity", memberId: m.id, kind: "store_checkin" });
      expect(res.status).toBe(201);
      return res.body.result.pointsEarned;
    };
    const viaApi = async () => (await activity(p, m.id, { kind: "store_checkin" })).body.pointsEarned;
    expect([await viaApi(), await viaPartner(), await viaApi(), await viaPartner()]).toEqual([10, 10, 5, 0]);
    expect((await ledgerSum(m.id)).sum).toBe(25);
  });

  it("a rule's per-member cap and budget hold for imports too", async () => {
    const p = await newProgram({ expiryDays: null });
    const bonus = await addRule(p, {
      name: "Purchase bonus",
      trigger: { type: "purchase" },
      effect: { type: "fixed", points: 100 },
      capPerMember: 150,
      budgetPoints: 250,
    });
    const externalId = uniqueKey("cust");
    const m = await newMember(p, { externalId });
    expect((await accrue(p, m.id, 1000)).body.pointsEarned).toBe(10 + 100);
    const [program] = await db().select().from(programs).where(eq(programs.id, p.programId));
    const rows = [1, 2, 3].map((i) => ({
      externalId,
      orderId: uniqueKey(`imp${i}`),
      amount: 1000,
      currency: "USD",
      occurredAt: new Date(Date.now() - (10 - i) * 86_400_000).toISOString(),
    }));
    // Base 10 each; the bonus only up to the member's cap (50 left), counted order by order.
    expect(await importTransactions(db(), program, rows)).toMatchObject({ imported: 3, pointsEarned: 30 + 50 });
    expect(await sql("SELECT points FROM rule_member_usage WHERE rule_id = ? AND member_id = ?", [bonus.id, m.id])).toEqual([
      expect.objectContaining({ points: 150 }),
    ]);
    expect((await call("GET", `/v1/rules/${bonus.id}`, { key: p.keys.admin })).body.pointsAwarded).toBe(150);
    // Another member's import draws on what is left of the rule's budget (100).
    const other = uniqueKey("cust");
    const many = Array.from({ length: 12 }, (_, i) => ({
      externalId: other,
      orderId: uniqueKey(`o${i}`),
      amount: 100,
      currency: "USD",
      occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
    }));
    expect(await importTransactions(db(), program, many)).toMatchObject({ imported: 12, pointsEarned: 12 + 100 });
    expect((await call("GET", `/v1/rules/${bonus.id}`, { key: p.keys.admin })).body.pointsAwarded).toBe(250);
    expect((await ledgerSum(m.id)).sum).toBe(110 + 80);
  });
});
