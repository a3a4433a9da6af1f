// Expiry policies through the real stack: settings, the lots the Durable Object writes, the
// 5-minute sweep (fixed days, inactivity) and calendar expiry fanned out on the loyalty-jobs
// queue, with time travel by running the sweeps and planners at later instants.
import { describe, expect, it } from "vitest";
import { addLocalMonths, localDate, localMonth, localMonthRange } from "../../src/domain/local-time";
import { planCalendarExpiry } from "../../src/jobs/plan";
import { runCalendarTriggers } from "../../src/services/campaigns/triggers";
import { expireLots, releasePendingLots } from "../../src/services/ledger/lots";
import { accrue, call, callDirect, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const MINUTE = 60_000;

const sql = async (text: string, args: (string | number | null)[] = []) => (await db().$client.execute({ sql: text, args })).rows;

const sweep = async (p: TestProgram, at: Date) => {
  await releasePendingLots(db(), at, 500, { programId: p.programId });
  return expireLots(db(), at, 500, { programId: p.programId });
};

const redeem = (p: TestProgram, memberId: string, points: number) =>
  call("POST", `/v1/members/${memberId}/redemptions`, {
    key: p.keys.storefront,
    idempotencyKey: uniqueKey("red"),
    body: { points, reason: "checkout" },
  });

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Run = { id: string; status: string; shards_total: number; shards_done: number; rows: number; run_key: string; as_of: string };
const expiryRuns = async (programId: string) =>
  (await sql(
    "SELECT id, status, shards_total, shards_done, rows, run_key, as_of FROM program_job_runs WHERE program_id = ? AND job = 'lots.expire-period' ORDER BY created_at",
    [programId],
  )) as unknown as Run[];
const untilExpired = (programIds: string[]) =>
  until(
    "the calendar expiry runs",
    () => Promise.all(programIds.map(expiryRuns)),
    (all) => all.every((runs) => runs.length > 0 && runs.every((r) => r.status === "ok" || r.status === "error")),
  );

describe("expiry policy settings", () => {
  it("PATCH /v1/program sets end-of-period and inactivity policies (audited), validates them, and only admins may", async () => {
    const p = await newProgram();
    const yearly = { kind: "endOfPeriod", period: "year", periodsAfter: 1 };
    const res = await call("PATCH", "/v1/program", { key: p.keys.admin, body: { expiryPolicy: yearly } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.expiryPolicy).toEqual(yearly);
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).body.expiryPolicy).toEqual(yearly);
    const idle = { kind: "inactivity", days: 180 };
    expect((await call("PATCH", "/v1/program", { key: p.keys.admin, body: { expiryPolicy: idle } })).body.expiryPolicy).toEqual(idle);

    const audit = await sql("SELECT before, after FROM audit_log WHERE program_id = ? AND action = 'program.updated' ORDER BY rowid", [
      p.programId,
    ]);
    expect(audit.map((r) => [JSON.parse(String(r.before)).expiryPolicy, JSON.parse(String(r.after)).expiryPolicy])).toEqual([
      [{ kind: "afterEarning", days: 365 }, yearly],
      [yearly, idle],
    ]);

    for (const bad of [
      { kind: "endOfPeriod", period: "week", periodsAfter: 1 },
      { kind: "endOfPeriod", period: "month", periodsAfter: -1 },
      { kind: "endOfPeriod", period: "month" },
      { kind: "inactivity", days: 0 },
      { kind: "inactivity", days: 30, extra: true },
    ]) {
      const r = await call("PATCH", "/v1/program", { key: p.keys.admin, body: { expiryPolicy: bad } });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
    }
    for (const key of [p.keys.storefront, p.keys.partner]) {
      const r = await call("PATCH", "/v1/program", { key, body: { expiryPolicy: { kind: "never" } } });
      expect(r.status).toBe(403);
    }
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).body.expiryPolicy).toEqual(idle);
  });

  it("a policy change applies to points earned after it: earlier lots keep how they expire", async () => {
    const p = await newProgram({ expiryDays: 30 });
    const m = await newMember(p);
    await accrue(p, m.id, 1_000);
    await call("PATCH", "/v1/program", { key: p.keys.admin, body: { expiryPolicy: { kind: "inactivity", days: 60 } } });
    await accrue(p, m.id, 2_000);
    await call("PATCH", "/v1/program", {
      key: p.keys.admin,
      body: { expiryPolicy: { kind: "endOfPeriod", period: "month", periodsAfter: 0 } },
    });
    await accrue(p, m.id, 3_000);
    const lots = await sql("SELECT points, expiry_kind, expires_at, created_at FROM point_lots WHERE member_id = ? ORDER BY points", [
      m.id,
    ]);
    expect(lots.map((l) => [Number(l.points), l.expiry_kind])).toEqual([
      [10, "date"],
      [20, "inactivity"],
      [30, "period"],
    ]);
    expect(Date.parse(String(lots[0].expires_at)) - Date.parse(String(lots[0].created_at))).toBe(30 * DAY);
    expect(lots[1].expires_at).toBeNull();
    expect(lots[2].expires_at).toBe(localMonthRange(localMonth(new Date(), "UTC"), "UTC").end);
    // The inactivity points still expire with the member's date, which purchases no longer move.
    const [member] = await sql("SELECT inactivity_expires_at FROM members WHERE id = ?", [m.id]);
    const deadline = String(member.inactivity_expires_at);
    expect(Date.parse(deadline) - Date.parse(String(lots[1].created_at))).toBe(60 * DAY);
    await accrue(p, m.id, 500);
    expect((await sql("SELECT inactivity_expires_at FROM members WHERE id = ?", [m.id]))[0].inactivity_expires_at).toBe(deadline);
  });
});

describe("end of period (calendar) expiry", () => {
  it("stores the local end of the period as a UTC instant across a DST change, and expires at exactly that instant", async () => {
    const zone = "America/New_York";
    const now = new Date();
    // The month of the next April in New York (EDT, UTC−4), earned in a month with a different offset or the same.
    const month = localMonth(now, zone);
    const april = `${Number(month.slice(0, 4)) + 1}-04`;
    let periodsAfter = 0;
    while (addLocalMonths(month, periodsAfter + 1) !== `${april.slice(0, 4)}-05`) periodsAfter++;
    const p = await newProgram({ timeZone: zone, expiryPolicy: { kind: "endOfPeriod", period: "month", periodsAfter } });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 12_300)).status).toBe(201);
    const [lot] = await sql("SELECT expires_at, expiry_kind FROM point_lots WHERE member_id = ?", [m.id]);
    // Local midnight starting 1 May, −04:00 (daylight time), whatever the offset when the points were earned.
    const end = `${april.slice(0, 4)}-05-01T04:00:00.000Z`;
    expect(lot).toMatchObject({ expires_at: end, expiry_kind: "period" });
    const justBefore = new Date(Date.parse(end) - MINUTE);
    expect(localDate(justBefore, zone)).toBe(`${april}-30`);
    expect(localDate(end, zone)).toBe(`${april.slice(0, 4)}-05-01`);

    // The 5-minute sweep leaves calendar lots to the fanned-out job.
    expect(await sweep(p, new Date(Date.parse(end) + DAY))).toBe(0);
    // A minute before the end nothing is due; at the end one run is planned, keyed by the instant.
    expect(await planCalendarExpiry(testEnv, justBefore, { programIds: [p.programId], shardSize: 2 })).toEqual({ programs: 0, planned: 0 });
    expect(await planCalendarExpiry(testEnv, new Date(end), { programIds: [p.programId], shardSize: 2 })).toEqual({
      programs: 1,
      planned: 1,
    });
    const [runs] = await untilExpired([p.programId]);
    expect(runs).toEqual([expect.objectContaining({ status: "ok", run_key: `expire:${end}`, as_of: end, rows: 1 })]);
    expect(await ledgerSum(m.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    const [expired] = await sql("SELECT points, metadata FROM ledger_entries WHERE member_id = ? AND type = 'expire'", [m.id]);
    expect(Number(expired.points)).toBe(-123);
    expect(JSON.parse(String(expired.metadata))).toEqual({ expiresAt: end });
    // Planning again later finds nothing due.
    expect(await planCalendarExpiry(testEnv, new Date(Date.parse(end) + 10 * MINUTE), { programIds: [p.programId] })).toEqual({
      programs: 0,
      planned: 0,
    });
  });

  it("points expiring this month: all of a member's points under end-of-month (0 months after)", async () => {
    const p = await newProgram({ timeZone: "Asia/Taipei", expiryPolicy: { kind: "endOfPeriod", period: "month", periodsAfter: 0 } });
    const m = await newMember(p);
    await accrue(p, m.id, 4_500);
    const balance = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    const month = localMonth(new Date(), "Asia/Taipei");
    expect(balance.body.expiringThisMonth).toEqual({ month, points: 45 });
    expect(balance.body.expiring).toEqual([{ points: 45, expiresAt: localMonthRange(month, "Asia/Taipei").end }]);
  });

  it("in 14 shards of 3 members gives exactly what one shard gives", async () => {
    const policy = { kind: "endOfPeriod", period: "month", periodsAfter: 0 } as const;
    const sharded = await newProgram({ name: "Sharded expiry", expiryPolicy: policy, timeZone: "Asia/Taipei" });
    const single = await newProgram({ name: "Single-shard expiry", expiryPolicy: policy, timeZone: "Asia/Taipei" });
    // The same 40 members in both: none to three purchases each, some points spent (lot_allocations).
    const seed = async (p: TestProgram) => {
      for (let i = 0; i < 40; i++) {
        const reg = await callDirect("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: `cust-${i}` } });
        const id = reg.body.id as string;
        for (let j = 0; j < i % 4; j++) {
          const r = await callDirect("POST", `/v1/members/${id}/accruals`, {
            key: p.keys.storefront,
            idempotencyKey: uniqueKey("acc"),
            body: { orderId: `o-${i}-${j}`, amount: 1_000 + 700 * i + 100 * j, currency: "USD" },
          });
          expect(r.status).toBe(201);
        }
        if (i % 5 === 1 && i % 4 !== 0) {
          const r = await callDirect("POST", `/v1/members/${id}/redemptions`, {
            key: p.keys.storefront,
            idempotencyKey: uniqueKey("red"),
            body: { points: 7, reason: "spend" },
          });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
        }
      }
    };
    await seed(sharded);
    await seed(single);
    const end = localMonthRange(localMonth(new Date(), "Asia/Taipei"), "Asia/Taipei").end;
    const after = new Date(Date.parse(end) + MINUTE);
    expect(await planCalendarExpiry(testEnv, after, { programIds: [sharded.programId], shardSize: 3 })).toEqual({
      programs: 1,
      planned: 1,
    });
    expect(await planCalendarExpiry(testEnv, after, { programIds: [single.programId], shardSize: 1_000 })).toEqual({
      programs: 1,
      planned: 1,
    });
    const [[shardedRun], [singleRun]] = await untilExpired([sharded.programId, single.programId]);
    expect(shardedRun).toMatchObject({ status: "ok", shards_total: 14, shards_done: 14 });
    expect(singleRun).toMatchObject({ status: "ok", shards_total: 1, shards_done: 1 });
    expect(Number(shardedRun.rows)).toBe(Number(singleRun.rows));
    expect(Number(singleRun.rows)).toBeGreaterThan(20);

    // What each member ends with, by external id: figures, ledger, lots, allocations, events.
    const outcome = async (p: TestProgram) => {
      const q = (text: string) => sql(text, [p.programId]);
      const rows = (r: Record<string, unknown>[]) => r.map((x) => Object.values(x).join("|"));
      return {
        members: rows(
          await q(
            "SELECT external_id, points_balance, points_pending, points_debt, lifetime_earned FROM members WHERE program_id = ? ORDER BY external_id",
          ),
        ),
        ledger: rows(
          await q(`SELECT m.external_id, e.type, e.points, e.reason, e.source_type, json_extract(e.metadata, '$.expiresAt') AS expiresAt
            FROM ledger_entries e JOIN members m ON m.id = e.member_id WHERE e.program_id = ? ORDER BY m.external_id, e.type, e.points`),
        ),
        lots: rows(
          await q(`SELECT m.external_id, l.points, l.remaining, l.expires_at FROM point_lots l JOIN members m ON m.id = l.member_id
            WHERE l.program_id = ? ORDER BY m.external_id, l.points, l.remaining`),
        ),
        allocations: rows(
          await q(`SELECT m.external_id, e.type, a.points FROM lot_allocations a JOIN ledger_entries e ON e.id = a.entry_id
            JOIN members m ON m.id = a.member_id WHERE a.program_id = ? ORDER BY m.external_id, e.type, a.points`),
        ),
        events: rows(
          await q(`SELECT m.external_id, json_extract(o.payload, '$.points') AS points FROM outbox_events o JOIN members m ON m.id = o.member_id
            WHERE o.program_id = ? AND o.type = 'points.expired' ORDER BY m.external_id`),
        ),
      };
    };
    const [a, b] = [await outcome(sharded), await outcome(single)];
    expect(a).toEqual(b);
    // Every member's balance is Σ ledger and every lot with points expired is empty.
    expect(a.members.every((r) => r.split("|")[1] === "0")).toBe(true);
    expect(a.lots.every((r) => r.split("|")[2] === "0")).toBe(true);
    expect(a.events.length).toBe(30); // members with purchases: one event each
    for (const p of [sharded, single]) {
      const [bad] = await sql(
        `SELECT COUNT(*) AS n FROM members m WHERE m.program_id = ? AND m.points_balance <> (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e WHERE e.member_id = m.id)`,
        [p.programId],
      );
      expect(Number(bad.n)).toBe(0);
    }
  });
});

describe("inactivity expiry", () => {
  const setDeadline = (memberId: string, at: string) => sql("UPDATE members SET inactivity_expires_at = ? WHERE id = ?", [at, memberId]);
  const deadlineOf = async (memberId: string) =>
    (await sql("SELECT inactivity_expires_at FROM members WHERE id = ?", [memberId]))[0].inactivity_expires_at as string | null;

  it("one date per member that every purchase moves (no lot rewritten); all points expire together once it passes", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 30 } });
    const m = await newMember(p);
    const t0 = Date.now();
    expect((await accrue(p, m.id, 5_000)).status).toBe(201);
    const first = await deadlineOf(m.id);
    expect(Date.parse(first!) - t0).toBeGreaterThanOrEqual(30 * DAY);
    expect(Date.parse(first!) - t0).toBeLessThan(30 * DAY + MINUTE);
    const lotsBefore = await sql("SELECT id, expires_at, expiry_kind FROM point_lots WHERE member_id = ?", [m.id]);
    expect(lotsBefore).toEqual([expect.objectContaining({ expires_at: null, expiry_kind: "inactivity" })]);

    await new Promise((r) => setTimeout(r, 5));
    expect((await accrue(p, m.id, 2_000)).status).toBe(201);
    const second = await deadlineOf(m.id);
    expect(second! > first!).toBe(true);
    // The first lot is as it was: no date written on it.
    expect(await sql("SELECT id, expires_at, expiry_kind FROM point_lots WHERE id = ?", [String(lotsBefore[0].id)])).toEqual(lotsBefore);

    // Balance and reminders show the member's date.
    const balance = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(balance.body.expiring).toEqual([{ points: 70, expiresAt: second }]);

    // Spending takes from the lots as usual.
    expect((await redeem(p, m.id, 15)).status).toBe(201);

    // Before the date nothing expires; after it, everything left, in one event.
    expect(await sweep(p, new Date(Date.parse(second!) - MINUTE))).toBe(0);
    expect(await sweep(p, new Date(Date.parse(second!) + MINUTE))).toBe(2);
    expect(await ledgerSum(m.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    const expired = await sql("SELECT points, metadata FROM ledger_entries WHERE member_id = ? AND type = 'expire' ORDER BY points", [
      m.id,
    ]);
    expect(expired.map((e) => [Number(e.points), JSON.parse(String(e.metadata)).expiresAt])).toEqual([
      [-35, second],
      [-20, second],
    ]);
    const allocated = await sql(
      "SELECT SUM(a.points) AS s FROM lot_allocations a JOIN ledger_entries e ON e.id = a.entry_id WHERE e.member_id = ? AND e.type = 'expire'",
      [m.id],
    );
    expect(Number(allocated[0].s)).toBe(55);
    const events = await sql("SELECT payload FROM outbox_events WHERE member_id = ? AND type = 'points.expired'", [m.id]);
    expect(events.map((e) => JSON.parse(String(e.payload)).points)).toEqual([55]);
    // The member leaves the sweep's range; running it again changes nothing.
    expect(await deadlineOf(m.id)).toBeNull();
    expect(await sweep(p, new Date(Date.parse(second!) + DAY))).toBe(0);
  });

  it("a credit that is not a purchase starts the clock but does not move a running one", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 90 } });
    const m = await newMember(p);
    const adjust = (points: number) =>
      call("POST", `/v1/members/${m.id}/adjustments`, {
        key: p.keys.admin,
        idempotencyKey: uniqueKey("adj"),
        body: { points, reason: "goodwill" },
      });
    expect((await adjust(40)).status).toBe(201);
    const started = await deadlineOf(m.id);
    expect(started).not.toBeNull();
    const soon = new Date(Date.now() + 10 * DAY).toISOString();
    await setDeadline(m.id, soon);
    expect((await adjust(10)).status).toBe(201);
    expect(await deadlineOf(m.id)).toBe(soon);
    // A purchase with no points (below one unit) still moves it.
    expect((await accrue(p, m.id, 50)).status).toBe(201);
    expect((await deadlineOf(m.id))! > soon).toBe(true);
  });

  it("past the date, points cannot be spent, and a purchase then does not rescue them: they expire at the old date", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 30 } });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 8_000)).status).toBe(201);
    // Time travel for the member's object: the date passed a minute ago and no sweep has run.
    const lapsed = new Date(Date.now() - MINUTE).toISOString();
    await setDeadline(m.id, lapsed);
    const spend = await redeem(p, m.id, 10);
    expect(spend.status).toBe(409);
    expect(spend.body.error.code).toBe("insufficient_points");
    expect((await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront })).body.expiring).toEqual([]);

    expect((await accrue(p, m.id, 3_000)).status).toBe(201);
    const lots = await sql("SELECT points, expiry_kind, expires_at FROM point_lots WHERE member_id = ? ORDER BY points", [m.id]);
    expect(lots.map((l) => [Number(l.points), l.expiry_kind, l.expires_at])).toEqual([
      [30, "inactivity", null],
      [80, "date", lapsed],
    ]);
    expect((await deadlineOf(m.id))! > new Date().toISOString()).toBe(true);
    await sweep(p, new Date());
    expect(await ledgerSum(m.id)).toEqual({ sum: 30, balance: 30, pending: 0, lots: 30 });
    const expired = await sql("SELECT points, metadata FROM ledger_entries WHERE member_id = ? AND type = 'expire'", [m.id]);
    expect(expired.map((e) => [Number(e.points), JSON.parse(String(e.metadata)).expiresAt])).toEqual([[-80, lapsed]]);
    expect((await redeem(p, m.id, 30)).status).toBe(201);
  });

  it("a redemption reversed after the date returns nothing: the spent inactivity points lapse with the rest", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 30 } });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 10_000)).status).toBe(201);
    const spent = await redeem(p, m.id, 100);
    expect(spent.status).toBe(201);
    // The date passes and the sweep runs: nothing was left to expire, the member's date is over.
    const lapsed = new Date(Date.now() - MINUTE).toISOString();
    await setDeadline(m.id, lapsed);
    await sweep(p, new Date());
    expect(await deadlineOf(m.id)).toBeNull();
    expect(await sql("SELECT expiry_kind, expires_at FROM point_lots WHERE member_id = ?", [m.id])).toEqual([
      { expiry_kind: "date", expires_at: lapsed },
    ]);
    const back = await call("POST", `/v1/redemptions/${spent.body.redemption.id}/reverse`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("rev"),
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).toMatchObject({ pointsReturned: 0, pointsLapsed: 100 });
    expect(await ledgerSum(m.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
  });

  it("purchases racing the sweep past the date: lapsed points expire exactly once and new points stay, whichever commits first", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 30 } });
    const members = [];
    for (let i = 0; i < 6; i++) {
      const m = await newMember(p);
      expect((await accrue(p, m.id, 10_000)).status).toBe(201);
      await setDeadline(m.id, new Date(Date.now() - MINUTE).toISOString());
      members.push(m);
    }
    await Promise.all([
      ...members.map((m) => accrue(p, m.id, 2_500)),
      sweep(p, new Date()),
      new Promise((r) => setTimeout(r, 15)).then(() => sweep(p, new Date())),
    ]);
    await sweep(p, new Date());
    for (const m of members) {
      expect(await ledgerSum(m.id)).toEqual({ sum: 25, balance: 25, pending: 0, lots: 25 });
      const expired = await sql("SELECT points FROM ledger_entries WHERE member_id = ? AND type = 'expire'", [m.id]);
      expect(expired.map((e) => Number(e.points))).toEqual([-100]);
      expect((await deadlineOf(m.id))! > new Date().toISOString()).toBe(true);
    }
  });

  it("the points-expiring reminder campaign uses the member's date", async () => {
    const p = await newProgram({ expiryPolicy: { kind: "inactivity", days: 30 } });
    const campaign = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: {
        name: "Come back before your points lapse",
        trigger: { type: "points_expiring", daysAhead: 7, minPoints: 10 },
        actions: [{ type: "send_message", channel: "email", template: "{{expiringPoints}} points expire on {{expiresOn}}" }],
      },
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const m = await newMember(p, { consent: { email: true } });
    await accrue(p, m.id, 6_000);
    const deadline = (await deadlineOf(m.id))!;
    const now = Date.now();
    await runCalendarTriggers(testEnv, new Date(now + 20 * DAY), 500);
    const occurrences = async () => (await call("GET", `/v1/campaigns/${campaign.body.id}/occurrences`, { key: p.keys.admin })).body.data;
    expect(await occurrences()).toHaveLength(0);
    await runCalendarTriggers(testEnv, new Date(now + 25 * DAY), 500);
    const expiresOn = localDate(deadline, "UTC");
    expect(await occurrences()).toEqual([
      expect.objectContaining({ memberId: m.id, occurrenceKey: `expiring:${expiresOn}`, context: { expiringPoints: 60, expiresOn } }),
    ]);
  });
});
