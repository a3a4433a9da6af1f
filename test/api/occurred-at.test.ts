// A reported `occurredAt` is bounded: at most 5 minutes ahead of the server clock, and for
// storefront and partner keys no older than the program's back-dating window (default 30 days).
// Before, an accrual dated 2999-01-01 was accepted and counted in every tier window forever, and
// a backdated one picked up any ended promotion.
import { describe, expect, it } from "vitest";
import { ImportTransactionRow } from "../../src/services/admin/import-rows";
import { call, db, ledgerSum, newMember, newProgram, partnerSignature, type TestProgram, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();
const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

const accrue = (p: TestProgram, memberId: string, occurredAt: string | undefined, key = p.keys.storefront, amount = 5000) =>
  call("POST", `/v1/members/${memberId}/accruals`, {
    key,
    idempotencyKey: uniqueKey("acc"),
    body: { orderId: uniqueKey("o"), amount, currency: "USD", ...(occurredAt ? { occurredAt } : {}) },
  });
const activity = (p: TestProgram, memberId: string, occurredAt: string, key = p.keys.storefront) =>
  call("POST", `/v1/members/${memberId}/activities`, {
    key,
    idempotencyKey: uniqueKey("act"),
    body: { kind: "store_checkin", occurredAt },
  });

async function postEvent(p: TestProgram, event: Record<string, unknown>) {
  const raw = JSON.stringify(event);
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) },
  });
}

describe("occurredAt bounds", () => {
  it("refuses a purchase or activity dated in the future, for every key, naming the bound; nothing is written", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    for (const key of [p.keys.storefront, p.keys.partner, p.keys.admin]) {
      for (const res of [await accrue(p, m.id, "2999-01-01T00:00:00Z", key), await activity(p, m.id, ahead(10 * 60_000), key)]) {
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error).toMatchObject({ code: "invalid_request", details: { field: "occurredAt", bound: "max_clock_skew" } });
        expect(res.body.error.message).toContain("in the future");
      }
    }
    const event = await postEvent(p, {
      eventId: uniqueKey("e"),
      type: "sale",
      memberId: m.id,
      orderId: uniqueKey("o"),
      amount: 100,
      currency: "USD",
      occurredAt: "2999-01-01T00:00:00Z",
    });
    expect(event.status).toBe(400);
    expect(event.body.error.details).toMatchObject({ bound: "max_clock_skew" });
    expect(await sql("SELECT COUNT(*) AS n FROM orders WHERE member_id = ?", [m.id])).toEqual([expect.objectContaining({ n: 0 })]);
    expect(await sql("SELECT COUNT(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'activity.recorded'", [m.id])).toEqual([
      expect.objectContaining({ n: 0 }),
    ]);
    // A till's clock a few minutes fast is fine.
    expect((await accrue(p, m.id, ahead(4 * 60_000))).status).toBe(201);
  });

  it("refuses storefront and partner dates older than the back-dating window; admin keys may go further back", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    for (const key of [p.keys.storefront, p.keys.partner]) {
      for (const res of [await accrue(p, m.id, ago(31 * DAY), key), await activity(p, m.id, ago(31 * DAY), key)]) {
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error).toMatchObject({
          code: "invalid_request",
          details: { field: "occurredAt", bound: "backdate_window", backdateDays: 30 },
        });
        expect(res.body.error.message).toContain("back-dating window of 30 days");
      }
    }
    const event = await postEvent(p, { eventId: uniqueKey("e"), type: "activity", memberId: m.id, kind: "x", occurredAt: ago(40 * DAY) });
    expect(event.status).toBe(400);
    expect(event.body.error.details).toMatchObject({ bound: "backdate_window" });
    expect((await ledgerSum(m.id)).sum).toBe(0);
    // Within the window, and with an admin key beyond it.
    expect((await accrue(p, m.id, ago(29 * DAY))).status).toBe(201);
    expect((await accrue(p, m.id, ago(400 * DAY), p.keys.admin)).status).toBe(201);
    expect((await activity(p, m.id, ago(400 * DAY), p.keys.admin)).status).toBe(201);
    expect((await ledgerSum(m.id)).sum).toBe(100);
  });

  it("the window is the program's setting", async () => {
    const p = await newProgram({ backdateDays: 90 });
    const m = await newMember(p);
    expect((await accrue(p, m.id, ago(60 * DAY))).status).toBe(201);
    const old = await accrue(p, m.id, ago(91 * DAY));
    expect(old.status).toBe(400);
    expect(old.body.error.details).toMatchObject({ backdateDays: 90 });
  });

  it("a backdated purchase within the window earns the rules as of when it happened", async () => {
    const p = await newProgram();
    await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: {
        name: "Last fortnight's promotion",
        trigger: { type: "purchase" },
        conditions: { startsAt: ago(20 * DAY), endsAt: ago(10 * DAY) },
        effect: { type: "fixed", points: 70 },
      },
    });
    const m = await newMember(p);
    const during = await accrue(p, m.id, ago(15 * DAY));
    expect(during.status).toBe(201);
    expect(during.body.pointsEarned).toBe(50 + 70);
    const now = await accrue(p, m.id, undefined);
    expect(now.body.pointsEarned).toBe(50);
    const [order] = await sql("SELECT occurred_at FROM orders WHERE member_id = ? ORDER BY occurred_at LIMIT 1", [m.id]);
    expect(Date.parse(String(order.occurred_at))).toBeLessThan(Date.now() - 14 * DAY);
  });

  it("tier windows count a purchase at when it happened: one dated before the window does not upgrade", async () => {
    const p = await newProgram({ backdateDays: 90 });
    for (const t of [
      { name: "Base", rank: 0, qualification: { windowDays: 30 } },
      { name: "Gold", rank: 1, qualification: { windowDays: 30, minSpend: 100_000 } },
    ])
      expect((await call("POST", "/v1/tiers", { key: p.keys.admin, body: t })).status).toBe(201);
    const m = await newMember(p);
    const before = await accrue(p, m.id, ago(45 * DAY), p.keys.storefront, 200_000);
    expect(before.status).toBe(201);
    expect(before.body.tierChange?.toName).not.toBe("Gold");
    const within = await accrue(p, m.id, ago(5 * DAY), p.keys.storefront, 150_000);
    expect(within.body.tierChange).toMatchObject({ toName: "Gold", change: "upgrade" });
  });

  it("imports may carry any past date but never a future one", () => {
    const row = { externalId: "c", orderId: "o", amount: 100, currency: "USD" };
    expect(ImportTransactionRow.safeParse({ ...row, occurredAt: "1997-01-01T00:00:00Z" }).success).toBe(true);
    const future = ImportTransactionRow.safeParse({ ...row, occurredAt: "2999-01-01T00:00:00Z" });
    expect(future.success).toBe(false);
    expect(future.error?.issues[0].message).toContain("future");
  });
});
