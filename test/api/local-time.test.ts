import { describe, expect, it } from "vitest";
import { localMonth, localMonthRange } from "../../src/domain/local-time";
import { runCalendarTriggers } from "../../src/services/campaigns/triggers";
import { snapshotProgramDay } from "../../src/services/kpis/kpis";
import { awardBirthdays } from "../../src/services/rules/birthdays";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv } from "./helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function addRule(p: TestProgram, rule: Record<string, unknown>) {
  const res = await call("POST", "/v1/rules", { key: p.keys.admin, body: rule });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

/** A recent Friday (as a date) whose Taipei Saturday 00:30 is at least a day in the past. */
function recentTaipeiFriday(): string {
  for (let t = Date.now() - 2 * DAY; ; t -= DAY) {
    const taipei = new Date(t + 8 * HOUR);
    if (taipei.getUTCDay() === 5) return taipei.toISOString().slice(0, 10);
  }
}

describe("local time", () => {
  it("a Friday-only rule in Asia/Taipei: a purchase at 23:30 Friday earns it, one at 00:30 Saturday does not (both are Friday in UTC)", async () => {
    const friday = recentTaipeiFriday();
    const lateFriday = `${friday}T15:30:00.000Z`; // 23:30 Friday in Taipei
    const earlySaturday = `${friday}T16:30:00.000Z`; // 00:30 Saturday in Taipei
    const rule = {
      name: "Friday bonus",
      trigger: { type: "purchase" },
      effect: { type: "fixed", points: 100 },
      conditions: { daysOfWeek: [5] },
    };
    const taipei = await newProgram({ settings: {} });
    expect((await call("PATCH", "/v1/program", { key: taipei.keys.admin, body: { timeZone: "Asia/Taipei" } })).status).toBe(200);
    const utc = await newProgram();
    for (const p of [taipei, utc]) await addRule(p, rule);

    const earned = async (p: TestProgram, occurredAt: string) => {
      const m = await newMember(p);
      const quote = await call("POST", "/v1/quote", {
        key: p.keys.storefront,
        body: { memberId: m.id, amount: 1000, currency: "USD", occurredAt },
      });
      expect(quote.status, JSON.stringify(quote.body)).toBe(200);
      const res = await accrue(p, m.id, 1000, { occurredAt });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const { sum } = await ledgerSum(m.id);
      expect(quote.body.points).toBe(sum);
      return sum;
    };
    // Base earn is 10 points for 10.00; the bonus adds 100.
    expect(await earned(taipei, lateFriday)).toBe(110);
    expect(await earned(taipei, earlySaturday)).toBe(10);
    expect(await earned(utc, lateFriday)).toBe(110);
    expect(await earned(utc, earlySaturday)).toBe(110);
  });

  it("a happy-hour window on the local clock, across midnight", async () => {
    const p = await newProgram();
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
    await addRule(p, {
      name: "Late night",
      trigger: { type: "purchase" },
      effect: { type: "fixed", points: 7 },
      conditions: { timeOfDay: { from: "22:00", to: "02:00" } },
    });
    const friday = recentTaipeiFriday();
    const quote = async (utcTime: string) => {
      const m = await newMember(p);
      const res = await call("POST", "/v1/quote", {
        key: p.keys.storefront,
        body: { memberId: m.id, amount: 1000, currency: "USD", occurredAt: `${friday}T${utcTime}Z` },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.points;
    };
    expect(await quote("13:59:00")).toBe(10); // 21:59 Taipei
    expect(await quote("14:00:00")).toBe(17); // 22:00
    expect(await quote("17:59:00")).toBe(17); // 01:59
    expect(await quote("18:00:00")).toBe(10); // 02:00, the end is exclusive
    const bad = await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: {
        name: "Bad",
        trigger: { type: "purchase" },
        effect: { type: "fixed", points: 1 },
        conditions: { timeOfDay: { from: "25:00", to: "02:00" } },
      },
    });
    expect(bad.status).toBe(400);
  });

  it("29 February birthdays: celebrated on 28 February in a non-leap year, on the 29th in a leap year, at local midnight, by the rule and the campaign alike", async () => {
    const p = await newProgram();
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
    await addRule(p, { name: "Birthday", trigger: { type: "birthday" }, effect: { type: "fixed", points: 300 } });
    const campaign = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: { name: "Birthday gift", trigger: { type: "birthday", on: "day" }, actions: [{ type: "award_points", points: 50 }] },
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const leapling = await newMember(p, { birthday: "2000-02-29" });
    const march = await newMember(p, { birthday: "1999-03-01" });
    const hourly = async (iso: string) => {
      const now = new Date(iso);
      await awardBirthdays({ env: testEnv, now, batchSize: 100 });
      await runCalendarTriggers(testEnv, now, 500);
    };

    await hourly("2027-02-27T15:30:00Z"); // 23:30 on 27 February in Taipei
    expect((await ledgerSum(leapling.id)).sum).toBe(0);
    await hourly("2027-02-27T16:30:00Z"); // 00:30 on 28 February in Taipei (still the 27th in UTC)
    expect((await ledgerSum(leapling.id)).sum).toBe(350);
    await hourly("2027-02-27T17:30:00Z"); // an hour later: same local day, nothing new
    await hourly("2027-02-28T16:30:00Z"); // 1 March in Taipei
    expect((await ledgerSum(leapling.id)).sum).toBe(350);
    expect((await ledgerSum(march.id)).sum).toBe(350);

    await hourly("2028-02-27T16:30:00Z"); // 28 February 2028, a leap year: not yet
    expect((await ledgerSum(leapling.id)).sum).toBe(350);
    await hourly("2028-02-28T16:30:00Z"); // 29 February 2028
    expect((await ledgerSum(leapling.id)).sum).toBe(700);
    const occurrences = await call("GET", `/v1/campaigns/${campaign.body.id}/occurrences`, { key: p.keys.admin });
    expect(
      occurrences.body.data
        .filter((o: { memberId: string }) => o.memberId === leapling.id)
        .map((o: { occurrenceKey: string }) => o.occurrenceKey)
        .sort(),
    ).toEqual(["birthday:2027", "birthday:2028"]);
  });

  it("KPI snapshots of America/New_York DST days span 23 and 25 hours; a snapshotted day keeps its zone after the program's changes", async () => {
    const p = await newProgram();
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "America/New_York" } });
    const joinedAt = async (iso: string) => {
      const m = await newMember(p);
      await db().$client.execute({ sql: "UPDATE members SET created_at = ? WHERE id = ?", args: [iso, m.id] });
    };
    // 8 March 2026 (clocks spring forward): 05:00Z to 04:00Z next day, 23 hours.
    await joinedAt("2026-03-08T04:30:00.000Z"); // 23:30 EST on the 7th
    await joinedAt("2026-03-08T05:30:00.000Z"); // 00:30 EST on the 8th
    await joinedAt("2026-03-09T03:30:00.000Z"); // 23:30 EDT on the 8th
    await joinedAt("2026-03-09T04:30:00.000Z"); // 00:30 EDT on the 9th
    // 1 November 2026 (clocks fall back): 04:00Z to 05:00Z next day, 25 hours.
    await joinedAt("2026-11-01T03:30:00.000Z"); // 23:30 EDT on 31 October
    await joinedAt("2026-11-01T04:30:00.000Z"); // 00:30 EDT on the 1st
    await joinedAt("2026-11-02T04:30:00.000Z"); // 23:30 EST on the 1st (a 24-hour window from 04:00Z misses it)
    await joinedAt("2026-11-02T05:30:00.000Z"); // 00:30 EST on the 2nd

    const spring = await snapshotProgramDay(db(), p.programId, "2026-03-08");
    const autumn = await snapshotProgramDay(db(), p.programId, "2026-11-01");
    expect((spring.members as { new: number }).new).toBe(2);
    expect((autumn.members as { new: number }).new).toBe(2);

    const series = await call("GET", "/v1/kpis?from=2026-03-01&to=2026-11-30", { key: p.keys.admin });
    expect(series.status).toBe(200);
    const bounds = series.body.data.map((d: { day: string; timeZone: string; startsAt: string; endsAt: string }) => [
      d.day,
      d.timeZone,
      d.startsAt,
      d.endsAt,
      (Date.parse(d.endsAt) - Date.parse(d.startsAt)) / HOUR,
    ]);
    expect(bounds).toEqual([
      ["2026-03-08", "America/New_York", "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z", 23],
      ["2026-11-01", "America/New_York", "2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z", 25],
    ]);

    // The program moves to Taipei: a day already taken keeps New York's bounds when taken again; a new day is Taipei's.
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
    await snapshotProgramDay(db(), p.programId, "2026-03-08");
    await snapshotProgramDay(db(), p.programId, "2026-03-09");
    const after = await call("GET", "/v1/kpis?from=2026-03-08&to=2026-03-09", { key: p.keys.admin });
    expect(after.body.data.map((d: { day: string; timeZone: string; startsAt: string }) => [d.day, d.timeZone, d.startsAt])).toEqual([
      ["2026-03-08", "America/New_York", "2026-03-08T05:00:00.000Z"],
      ["2026-03-09", "Asia/Taipei", "2026-03-08T16:00:00.000Z"],
    ]);
  });

  it("budget months are the program's local months", async () => {
    const p = await newProgram({ pointCostPer1000: 1000 });
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
    const m = await newMember(p);
    const res = await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: `adj-${m.id}`,
      body: { points: 1000, reason: "goodwill" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // Booked at 30 November 16:30 UTC: already 1 December in Taipei.
    await db().$client.execute({
      sql: "UPDATE ledger_entries SET created_at = '2026-11-30T16:30:00.000Z' WHERE member_id = ?",
      args: [m.id],
    });
    const cost = async (period: string) => {
      const put = await call("PUT", `/v1/budgets/${period}`, { key: p.keys.admin, body: { amountMinor: 10_000 } });
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      return put.body.programCost.pointsIssued;
    };
    expect(await cost("2026-11")).toBe(0);
    expect(await cost("2026-12")).toBe(1000);
  });

  it('"points expiring this month" is the program\'s local month', async () => {
    const p = await newProgram();
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 1_000)).status).toBe(201);
    expect((await accrue(p, m.id, 2_000)).status).toBe(201);
    const month = localMonth(new Date(), "Asia/Taipei");
    const end = Date.parse(localMonthRange(month, "Asia/Taipei").end);
    // 10 points expire a minute before the Taipei month ends, 20 an hour after (still this month in UTC).
    await db().$client.execute({
      sql: "UPDATE point_lots SET expires_at = CASE points WHEN 10 THEN ? ELSE ? END WHERE member_id = ?",
      args: [new Date(end - 60_000).toISOString(), new Date(end + HOUR).toISOString(), m.id],
    });
    const balance = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(balance.status).toBe(200);
    expect(balance.body.expiringThisMonth).toEqual({ month, points: 10 });
    expect(balance.body.expiring.map((e: { points: number }) => e.points)).toEqual([10, 20]);
  });
});
