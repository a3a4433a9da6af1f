// Tier benefits that act (quote discount line, birthday gift coupon, storefront view, versions),
// milestone rules in the earning engine, and member search for staff.
import { describe, expect, it } from "vitest";
import { awardAnniversaries, issueTierBirthdayGifts } from "../../src/services/tiers/calendar-gifts";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

async function post(p: TestProgram, path: string, body: unknown) {
  const res = await call("POST", path, { key: p.keys.admin, body });
  expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/** Bronze (everyone, no discount) and Gold (from 500.00 spend: 10% off, free shipping, a custom perk). */
async function ladder(p: TestProgram, goldBenefits: Record<string, unknown> = {}) {
  const bronze = await post(p, "/v1/tiers", { name: "Bronze", rank: 0, qualification: { windowDays: 365 } });
  const gold = await post(p, "/v1/tiers", {
    name: "Gold",
    rank: 1,
    qualification: { windowDays: 365, minSpend: 50_000 },
    benefits: { discountPct: 10, freeShipping: true, custom: { lounge: "Airport lounge access" }, ...goldBenefits },
  });
  return { bronze, gold };
}

const quote = (p: TestProgram, body: Record<string, unknown>) =>
  call("POST", "/v1/quote", { key: p.keys.storefront, body: { currency: "USD", ...body } });

describe("tier benefits act", () => {
  it("the quote returns the tier discount as a line, applied before a points redemption; the accrual of amountDue earns the quoted points", async () => {
    const p = await newProgram({ expiryDays: null });
    const { gold } = await ladder(p);
    const m = await newMember(p);
    // Bronze: no discount line.
    const plain = await quote(p, { memberId: m.id, amount: 10_000 });
    expect(plain.body).toMatchObject({ discounts: [], amountDue: 10_000, points: 100 });
    expect((await accrue(p, m.id, 60_000)).status).toBe(201); // → Gold
    const q = await quote(p, { memberId: m.id, amount: 12_345 });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    expect(q.body.discounts).toEqual([{ type: "tier", tierId: gold.id, tierName: "Gold", tierVersion: 1, discountPct: 10, amount: 1_234 }]);
    expect(q.body).toMatchObject({ amountDue: 11_111, points: 111 });
    // With a redemption: the tier discount first, then the redemption's discount off what is left.
    const withRedemption = await quote(p, { memberId: m.id, amount: 12_345, redemption: { points: 500, discount: 5_000 } });
    expect(withRedemption.body).toMatchObject({
      discounts: [{ amount: 1_234 }],
      amountDue: 6_111,
      points: 61,
      redemption: { discount: 5_000, amountAfterDiscount: 6_111, affordable: true },
    });
    // A redemption worth more than what is left after the tier discount is refused (12,345 − 1,234 = 11,111).
    const tooMuch = await quote(p, { memberId: m.id, amount: 12_345, redemption: { points: 500, discount: 11_112 } });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.code).toBe("invalid_request");
    // A guest has no tier discount.
    expect((await quote(p, { amount: 12_345 })).body).toMatchObject({ discounts: [], amountDue: 12_345 });
    // The shop charges amountDue; its accrual earns what the quote said.
    const paid = await accrue(p, m.id, q.body.amountDue);
    expect(paid.body.pointsEarned).toBe(q.body.points);
  });

  it("benefits are versioned: a change is a new version, past orders keep the version they were placed under", async () => {
    const p = await newProgram({ expiryDays: null });
    const { bronze, gold } = await ladder(p);
    const m = await newMember(p);
    const first = await accrue(p, m.id, 60_000); // placed on Bronze, reaches Gold
    const onGold = await accrue(p, m.id, 1_000);
    const patched = await call("PATCH", `/v1/tiers/${gold.id}`, {
      key: p.keys.admin,
      body: { benefits: { discountPct: 15, freeShipping: true } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(2);
    // A patch that changes nothing keeps the version.
    expect((await call("PATCH", `/v1/tiers/${gold.id}`, { key: p.keys.admin, body: { name: "Gold" } })).body.version).toBe(2);
    const afterChange = await accrue(p, m.id, 1_000);
    const placed = await sql(
      "SELECT order_id AS orderId, tier_id AS tierId, tier_version AS v FROM orders WHERE member_id = ? ORDER BY created_at",
      [m.id],
    );
    expect(placed.map((r) => [r.tierId, Number(r.v)])).toEqual([
      [bronze.id, 1],
      [gold.id, 1],
      [gold.id, 2],
    ]);
    expect([first, onGold, afterChange].map((r) => r.status)).toEqual([201, 201, 201]);
    const versions = await call("GET", `/v1/tiers/${gold.id}/versions`, { key: p.keys.admin });
    expect(versions.status).toBe(200);
    expect(
      versions.body.data.map((v: { version: number; definition: { benefits: { discountPct: number } } }) => [
        v.version,
        v.definition.benefits.discountPct,
      ]),
    ).toEqual([
      [2, 15],
      [1, 10],
    ]);
    // The quote uses the current version.
    expect((await quote(p, { memberId: m.id, amount: 10_000 })).body.discounts[0]).toMatchObject({ tierVersion: 2, amount: 1_500 });
    // Versions are staff-only, and per program.
    expect((await call("GET", `/v1/tiers/${gold.id}/versions`, { key: p.keys.storefront })).status).toBe(403);
    expect((await call("GET", `/v1/tiers/${gold.id}/versions`, { key: p.keys.partner })).status).toBe(403);
    const other = await newProgram();
    expect((await call("GET", `/v1/tiers/${gold.id}/versions`, { key: other.keys.admin })).status).toBe(404);
  });

  it("free shipping and custom benefits appear in the member view and in /v1/me for the storefront", async () => {
    const p = await newProgram({ expiryDays: null });
    await ladder(p, { birthdayGift: "Cake on us" });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 60_000)).status).toBe(201);
    const view = await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront, headers: { "cache-control": "no-cache" } });
    expect(view.body.tier).toMatchObject({
      name: "Gold",
      version: 1,
      benefits: {
        discountPct: 10,
        pointsMultiplier: 1,
        freeShipping: true,
        priorityService: false,
        birthdayGift: "Cake on us",
        custom: { lounge: "Airport lounge access" },
      },
    });
    const token = (await call("POST", `/v1/members/${m.id}/tokens`, { key: p.keys.storefront, body: {} })).body.token as string;
    const me = await call("GET", "/v1/me", { key: token });
    expect(me.status).toBe(200);
    expect(me.body.tier.benefits).toEqual(view.body.tier.benefits);
  });

  it("a tier's catalog birthday gift is issued as a coupon on the local birthday, once a year, only to that tier", async () => {
    const p = await newProgram({ expiryDays: null });
    expect((await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } })).status).toBe(200);
    const reward = await post(p, "/v1/rewards", {
      name: "Birthday cake",
      kind: "free_product",
      productSku: "CAKE",
      pointsCost: 1_000,
      costMinor: 300,
      inventory: 5,
    });
    const { gold } = await ladder(p, { birthdayGift: { rewardId: reward.id, label: "A birthday cake" } });
    // 10 March 2031 17:00 UTC is 11 March 01:00 in Taipei: 11 March birthdays are celebrated.
    const now = new Date("2031-03-10T17:00:00Z");
    const goldToday = await newMember(p, { birthday: "1990-03-11" });
    const goldUtcToday = await newMember(p, { birthday: "1990-03-10" });
    const bronzeToday = await newMember(p, { birthday: "1991-03-11" });
    for (const m of [goldToday, goldUtcToday]) expect((await accrue(p, m.id, 60_000)).status).toBe(201);
    await issueTierBirthdayGifts({ env: testEnv, now, batchSize: 100 }, { programId: p.programId });
    await issueTierBirthdayGifts({ env: testEnv, now: new Date(now.getTime() + 3_600_000), batchSize: 100 }, { programId: p.programId });
    const issued = await sql(
      "SELECT member_id AS memberId, reward_id AS rewardId, points_cost AS cost, status FROM coupons WHERE program_id = ?",
      [p.programId],
    );
    expect(issued.map((c) => ({ ...c }))).toEqual([{ memberId: goldToday.id, rewardId: reward.id, cost: 0, status: "issued" }]);
    expect(Number((await sql("SELECT inventory_remaining AS n FROM rewards WHERE id = ?", [reward.id]))[0].n)).toBe(4);
    // No points changed hands for the gift.
    expect(await ledgerSum(goldToday.id)).toMatchObject({ sum: 600 });
    const [event] = await sql("SELECT payload FROM outbox_events WHERE member_id = ? AND type = 'reward.issued'", [goldToday.id]);
    expect(JSON.parse(String(event.payload))).toMatchObject({ tierId: gold.id, tierVersion: 1, occasion: "birthday:2031", pointsCost: 0 });
    expect(bronzeToday.id).toBeTruthy();
    // The view shows the gift's label.
    const view = await call("GET", `/v1/members/${goldToday.id}`, { key: p.keys.admin });
    expect(view.body.tier.benefits.birthdayGift).toBe("A birthday cake");
    // A tier gift cannot be claimed through any client door: the gift has no client route, and the
    // anniversary bonus kind is refused as a reported activity.
    const claim = await call("POST", `/v1/members/${goldToday.id}/activities`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { kind: "anniversary" },
    });
    expect(claim.status).toBe(400);
  });

  it("a gift whose reward no longer exists issues nothing, and the job carries on", async () => {
    const p = await newProgram({ expiryDays: null });
    await ladder(p, { birthdayGift: { rewardId: "rwd_missing" } });
    const today = new Date();
    const m = await newMember(p, { birthday: `1990-${today.toISOString().slice(5, 10)}` });
    expect((await accrue(p, m.id, 60_000)).status).toBe(201);
    const result = await issueTierBirthdayGifts({ env: testEnv, now: today, batchSize: 100 }, { programId: p.programId });
    expect(result).toMatchObject({ issued: 0 });
    expect(await sql("SELECT id FROM coupons WHERE member_id = ?", [m.id])).toHaveLength(0);
  });
});

describe("milestone rules", () => {
  const milestone = (p: TestProgram, name: string, m: Record<string, unknown>, points: number) =>
    post(p, "/v1/rules", { name, trigger: { type: "milestone", milestone: m }, effect: { type: "fixed", points } });

  it("nth order and lifetime spend award once per member, and the quote shows them", async () => {
    const p = await newProgram({ expiryDays: null });
    const third = await milestone(p, "Third order", { kind: "nth_order", n: 3 }, 300);
    const big = await milestone(p, "Spent 1,000.00", { kind: "lifetime_spend", atLeast: 100_000 }, 1_000);
    const m = await newMember(p);
    const earned: number[] = [];
    for (const amount of [10_000, 10_000]) earned.push((await accrue(p, m.id, amount)).body.pointsEarned);
    // The third order: the quote and the accrual both see the milestone.
    const q = await quote(p, { memberId: m.id, amount: 10_000 });
    expect(q.body.lines.map((l: { ruleId: string }) => l.ruleId)).toEqual(["base", third.id]);
    const third3 = await accrue(p, m.id, 10_000);
    expect(third3.body.pointsEarned).toBe(q.body.points);
    earned.push(third3.body.pointsEarned);
    for (const amount of [10_000, 80_000, 10_000]) earned.push((await accrue(p, m.id, amount)).body.pointsEarned);
    expect(earned).toEqual([100, 100, 400, 100, 1_800, 100]);
    // Once per member: never again, though the member is past both thresholds.
    const usage = await sql("SELECT rule_id AS ruleId, points FROM rule_member_usage WHERE member_id = ? ORDER BY points", [m.id]);
    expect(usage.map((u) => [u.ruleId, Number(u.points)])).toEqual([
      [third.id, 300],
      [big.id, 1_000],
    ]);
    // A milestone rule awards fixed points and names its milestone.
    const bad = await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: {
        name: "x",
        trigger: { type: "milestone", milestone: { kind: "nth_order", n: 2 } },
        effect: { type: "multiplier", factor: 2 },
      },
    });
    expect(bad.status).toBe(400);
    expect(
      (
        await call("POST", "/v1/rules", {
          key: p.keys.admin,
          body: { name: "y", trigger: { type: "milestone" }, effect: { type: "fixed", points: 1 } },
        })
      ).status,
    ).toBe(400);
  });

  it("a streak: purchases in k consecutive local months, awarded once", async () => {
    const p = await newProgram({ expiryDays: null, backdateDays: 120 });
    expect((await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } })).status).toBe(200);
    const streak = await milestone(p, "Three months running", { kind: "streak", months: 3 }, 500);
    const m = await newMember(p);
    const monthsAgo = (n: number, day = 15) => {
      const d = new Date();
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, day, 4)).toISOString();
    };
    // Three months ago, then a gap (none two months ago), then last month: no streak of 3 this month yet.
    expect((await accrue(p, m.id, 1_000, { occurredAt: monthsAgo(3) })).body.pointsEarned).toBe(10);
    expect((await accrue(p, m.id, 1_000, { occurredAt: monthsAgo(1) })).body.pointsEarned).toBe(10);
    const gap = await quote(p, { memberId: m.id, amount: 1_000 });
    expect(gap.body.skipped).toContainEqual({ ruleId: streak.id, reason: "milestone_not_reached" });
    // Two months ago fills the gap: 3 months running (the 3rd, 2nd and 1st months ago).
    const filled = await accrue(p, m.id, 1_000, { occurredAt: monthsAgo(2) });
    expect(filled.body.lines.map((l: { ruleId: string }) => l.ruleId)).toEqual(["base", streak.id]);
    expect(filled.body.pointsEarned).toBe(510);
    // This month makes four in a row: awarded once only.
    const now = await accrue(p, m.id, 1_000);
    expect(now.body.pointsEarned).toBe(10);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 540 });
  });

  it("the membership anniversary: on the local anniversary of joining, once", async () => {
    const p = await newProgram({ expiryDays: null });
    await milestone(p, "One year with us", { kind: "anniversary", years: 1 }, 700);
    await milestone(p, "Five years with us", { kind: "anniversary", years: 5 }, 5_000);
    const now = new Date();
    const yearAgo = new Date(now);
    yearAgo.setUTCFullYear(now.getUTCFullYear() - 1);
    const veteran = await newMember(p);
    const newcomer = await newMember(p);
    const tomorrow = await newMember(p);
    await sql("UPDATE members SET created_at = ? WHERE id = ?", [yearAgo.toISOString(), veteran.id]);
    await sql("UPDATE members SET created_at = ? WHERE id = ?", [new Date(yearAgo.getTime() + 86_400_000).toISOString(), tomorrow.id]);
    await awardAnniversaries({ env: testEnv, now, batchSize: 100 }, { programId: p.programId });
    await awardAnniversaries({ env: testEnv, now, batchSize: 100 }, { programId: p.programId });
    expect((await ledgerSum(veteran.id)).sum).toBe(700);
    expect((await ledgerSum(newcomer.id)).sum).toBe(0);
    expect((await ledgerSum(tomorrow.id)).sum).toBe(0);
  });
});

describe("member search for staff", () => {
  it("by email, phone, name prefix and external id; indexed, paged by cursor; storefront and partner keys refused", async () => {
    const p = await newProgram();
    const other = await newProgram();
    const ana = await newMember(p, { email: "Ana.Lin@Example.com", phone: "+886 912-345-678", name: "Ana Lin" });
    const names = ["Anabel", "Anders", "Andrea", "Bob"];
    const made = [];
    for (const name of names) made.push(await newMember(p, { name, email: `${name.toLowerCase()}@example.com` }));
    await newMember(other, { name: "Ana Other", email: "ana.lin@example.com" });
    const search = (q: Record<string, string>, key = p.keys.admin) => call("GET", `/v1/members/search?${new URLSearchParams(q)}`, { key });

    const byEmail = await search({ field: "email", q: "ana.lin@EXAMPLE.com" });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toMatchObject({ data: [{ id: ana.id, name: "Ana Lin", tier: null }], nextCursor: null });
    expect((await search({ field: "phone", q: "886912345678" })).body.data.map((m: { id: string }) => m.id)).toEqual([ana.id]);
    expect((await search({ field: "phone", q: "+886 (912) 345 678" })).body.data.map((m: { id: string }) => m.id)).toEqual([ana.id]);
    expect((await search({ field: "externalId", q: made[3].externalId })).body.data.map((m: { id: string }) => m.id)).toEqual([made[3].id]);

    // Name prefix, case-insensitive, in name order, two per page.
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await search({ field: "name", q: "an", limit: "2", ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      pages.push(res.body.data.map((m: { name: string }) => m.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([
      ["Ana Lin", "Anabel"],
      ["Anders", "Andrea"],
    ]);

    // The queries use the search indexes.
    const plan = await sql(
      `EXPLAIN QUERY PLAN SELECT id FROM members WHERE program_id = ? AND lower(name) >= ? AND lower(name) < ? ORDER BY lower(name), id`,
      [p.programId, "an", "an\u{10ffff}"],
    );
    expect(plan.map((r) => String(r.detail)).join(" ")).toContain("members_search_name_idx");

    expect((await search({ field: "name", q: "an" }, p.keys.storefront)).status).toBe(403);
    expect((await search({ field: "name", q: "an" }, p.keys.partner)).status).toBe(403);
    const token = (await call("POST", `/v1/members/${ana.id}/tokens`, { key: p.keys.storefront, body: {} })).body.token as string;
    expect((await search({ field: "name", q: "an" }, token)).status).toBe(403);
    expect((await search({ field: "name", q: "an" }, "nope")).status).toBe(401);
    expect((await search({ field: "phone", q: "abc" })).status).toBe(400);
    expect((await search({ field: "name", q: "an", cursor: "not-a-cursor" })).status).toBe(400);
    expect((await search({ field: "nickname", q: "an" })).status).toBe(400);
  });
});

describe("per-tier KPIs", () => {
  it("each daily snapshot carries per-tier figures, served by GET /v1/kpis/tiers; staff only", async () => {
    const DAY = 86_400_000;
    const p = await newProgram({ expiryDays: null, backdateDays: 60 });
    const { bronze, gold } = await ladder(p);
    const [a, b, c, d] = [await newMember(p), await newMember(p), await newMember(p), await newMember(p)];
    const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
    // a: bought 40 days ago and today, 600.00 in all → Gold (upgraded today).
    expect((await accrue(p, a.id, 10_000, { occurredAt: daysAgo(40) })).status).toBe(201);
    expect((await accrue(p, a.id, 50_000)).status).toBe(201);
    // b: bought 45 days ago only (not retained), Bronze. c: two orders this month, Bronze. d: none (entry tier).
    expect((await accrue(p, b.id, 2_000, { occurredAt: daysAgo(45) })).status).toBe(201);
    expect((await accrue(p, c.id, 3_000, { occurredAt: daysAgo(3) })).status).toBe(201);
    expect((await accrue(p, c.id, 1_000)).status).toBe(201);
    // c redeems 10 points.
    expect(
      (
        await call("POST", `/v1/members/${c.id}/redemptions`, {
          key: p.keys.storefront,
          idempotencyKey: uniqueKey(),
          body: { points: 10, reason: "t" },
        })
      ).status,
    ).toBe(201);
    expect(d.id).toBeTruthy();
    const timeZone = "UTC";
    const day = new Date().toISOString().slice(0, 10);
    const { snapshotProgramDay } = await import("../../src/services/kpis/kpis");
    await snapshotProgramDay(db(), p.programId, day);
    await snapshotProgramDay(db(), p.programId, day); // idempotent
    const res = await call("GET", `/v1/kpis/tiers?from=${day}&to=${day}`, { key: p.keys.admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual([
      {
        day,
        timeZone,
        tiers: [
          {
            tierId: bronze.id,
            tierName: "Bronze",
            figures: {
              members: 3,
              retentionRate30d: 0, // b bought in the previous window, not in this one
              repurchaseRate: 1 / 2, // b once, c twice
              aov30d: 2_000, // c: 4,000 over 2 orders
              spendPerMember30d: 4_000 / 3,
              revenue30d: 4_000,
              orders30d: 2,
              points: { earned30d: 60, redeemed30d: 10 }, // by when points were credited: b's back-dated order today
              upgrades: { in: 0, out: 1 },
              downgrades: { in: 0, out: 0 },
            },
          },
          {
            tierId: gold.id,
            tierName: "Gold",
            figures: {
              members: 1,
              retentionRate30d: 1,
              repurchaseRate: 1,
              aov30d: 50_000,
              spendPerMember30d: 50_000,
              revenue30d: 50_000,
              orders30d: 1,
              points: { earned30d: 600, redeemed30d: 0 },
              upgrades: { in: 1, out: 0 },
              downgrades: { in: 0, out: 0 },
            },
          },
        ],
      },
    ]);
    for (const key of [p.keys.storefront, p.keys.partner])
      expect((await call("GET", `/v1/kpis/tiers?from=${day}&to=${day}`, { key })).status).toBe(403);
    const other = await newProgram();
    expect((await call("GET", `/v1/kpis/tiers?from=${day}&to=${day}`, { key: other.keys.admin })).body.data).toEqual([]);
    expect((await call("GET", `/v1/kpis/tiers?from=${day}&to=2020-01-01`, { key: p.keys.admin })).status).toBe(400);
  });
});

describe("LTV:CAC per acquisition channel", () => {
  it("the mean 12-month CLV of each channel's cohort against its CAC; acquisition spend recorded per channel and month", async () => {
    const p = await newProgram({ expiryDays: null });
    const period = new Date().toISOString().slice(0, 7); // the program's zone is UTC
    const social = [
      await newMember(p, { acquisitionChannel: "social" }),
      await newMember(p, { acquisitionChannel: "social" }),
      await newMember(p, { acquisitionChannel: "social" }),
    ];
    const search = await newMember(p, { acquisitionChannel: "search" });
    expect((await accrue(p, social[0].id, 7_000)).status).toBe(201);
    // The nightly scores write members.clv_12m (test/api/analytics.test.ts); two of the social cohort are scored.
    await sql("UPDATE members SET clv_12m = ? WHERE id = ?", [12_000, social[0].id]);
    await sql("UPDATE members SET clv_12m = ? WHERE id = ?", [6_000, social[1].id]);
    await sql("UPDATE members SET clv_12m = ? WHERE id = ?", [2_000, search.id]);
    for (const [channel, amountMinor] of [
      ["social", 9_000],
      ["search", 4_000],
    ] as const)
      expect((await call("PUT", `/v1/acquisition-spend/${channel}/${period}`, { key: p.keys.admin, body: { amountMinor } })).status).toBe(
        201,
      );
    // Recording spend is staff-only.
    expect((await call("PUT", `/v1/acquisition-spend/social/${period}`, { key: p.keys.storefront, body: { amountMinor: 1 } })).status).toBe(
      403,
    );
    const res = await call("GET", `/v1/analytics/cac?from=${period}&to=${period}`, { key: p.keys.admin });
    expect(res.status).toBe(200);
    expect(res.body.channels).toEqual([
      {
        channel: "search",
        spendMinor: 4_000,
        newMembers: 1,
        cacMinor: 4_000,
        scoredMembers: 1,
        ltvMinor: 2_000,
        spendToDateMinor: 0,
        ltvToCac: 0.5,
      },
      {
        channel: "social",
        spendMinor: 9_000,
        newMembers: 3,
        cacMinor: 3_000,
        scoredMembers: 2,
        ltvMinor: 9_000,
        spendToDateMinor: 7_000,
        ltvToCac: 3,
      },
    ]);
    expect(res.body.total).toEqual({
      spendMinor: 13_000,
      newMembers: 4,
      blendedCacMinor: 3_250,
      scoredMembers: 3,
      ltvMinor: 20_000 / 3,
      ltvToCac: 20_000 / 3 / 3_250,
    });
    for (const key of [p.keys.storefront, p.keys.partner])
      expect((await call("GET", `/v1/analytics/cac?from=${period}&to=${period}`, { key })).status).toBe(403);
  });
});

describe("engagement beyond purchases", () => {
  it("with recency counting activities, a member who only reviews and logs in stays active; RFM recency, segments and the active rate follow", async () => {
    const DAY = 86_400_000;
    const { runProgramAnalytics } = await import("../../src/analytics/pipeline");
    const { snapshotProgramDay } = await import("../../src/services/kpis/kpis");
    const p = await newProgram({ expiryDays: null, backdateDays: 400 });
    const buyer = await newMember(p);
    const reviewer = await newMember(p);
    const longAgo = new Date(Date.now() - 200 * DAY).toISOString();
    for (const m of [buyer, reviewer]) {
      await sql("UPDATE members SET created_at = ? WHERE id = ?", [new Date(Date.now() - 300 * DAY).toISOString(), m.id]);
      expect(
        (
          await call("POST", `/v1/members/${m.id}/accruals`, {
            key: p.keys.admin,
            idempotencyKey: uniqueKey(),
            body: { orderId: uniqueKey("o"), amount: 5_000, currency: "USD", occurredAt: longAgo },
          })
        ).status,
      ).toBe(201);
    }
    // The reviewer reports activities (no purchase) this week.
    for (const kind of ["review", "app_login"])
      expect(
        (
          await call("POST", `/v1/members/${reviewer.id}/activities`, {
            key: p.keys.storefront,
            idempotencyKey: uniqueKey(),
            body: { kind },
          })
        ).status,
      ).toBe(201);
    const segment = await post(p, "/v1/segments", {
      name: "Engaged this month",
      rule: { field: "daysSinceLastActivity", op: "lte", value: 30 },
    });
    const stages = async () =>
      Object.fromEntries(
        (await sql("SELECT id, stage, rfm_r AS r FROM members WHERE program_id = ?", [p.programId])).map((r) => [
          r.id,
          [r.stage, Number(r.r)],
        ]),
      );
    const now = new Date();
    const day = now.toISOString().slice(0, 10);

    // Default: purchases only — both have been silent for 200 days (at risk), same recency.
    await runProgramAnalytics(db(), p.programId, now, { batchSize: 50, maxPages: 100 });
    expect(await stages()).toEqual({ [buyer.id]: ["at_risk", 1], [reviewer.id]: ["at_risk", 1] });
    const purchasesOnly = (await snapshotProgramDay(db(), p.programId, day)) as { activeRate: number; activeDefinition: string };
    expect(purchasesOnly).toMatchObject({ activeRate: 0, activeDefinition: "purchases" });

    // Counting activities: the reviewer is active, with the better recency score.
    expect((await call("PUT", "/v1/lifecycle-settings", { key: p.keys.admin, body: { recency: "activities" } })).status).toBe(200);
    await runProgramAnalytics(db(), p.programId, now, { batchSize: 50, maxPages: 100 });
    const after = await stages();
    expect(after[buyer.id][0]).toBe("at_risk");
    expect(after[reviewer.id][0]).toBe("active");
    expect(after[reviewer.id][1]).toBeGreaterThan(after[buyer.id][1]);
    const withActivities = (await snapshotProgramDay(db(), p.programId, day)) as { activeRate: number; activeDefinition: string };
    expect(withActivities).toMatchObject({ activeRate: 0.5, activeDefinition: "activities", members: { active30d: 0, engaged30d: 1 } });
    // A segment on days since the last activity holds the reviewer only.
    const members = await call("GET", `/v1/segments/${segment.id}/members`, { key: p.keys.admin });
    expect(members.body.data.map((m: { memberId?: string; id?: string }) => m.memberId ?? m.id)).toEqual([reviewer.id]);
  });
});
