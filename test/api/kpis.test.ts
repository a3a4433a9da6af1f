import { describe, expect, it } from "vitest";
import { snapshotAllPrograms, snapshotProgramDay } from "../../src/services/kpis/kpis";
import { expireLots } from "../../src/services/ledger/lots";
import { accrue, call, countBy, db, newMember, newProgram, uniqueKey } from "./helpers";

const DAY = 86_400_000;

describe("KPIs", () => {
  it("a daily snapshot of a seeded program matches figures computed independently; the series and today's live figures", async () => {
    // 1 point per 1.00 spent; 1000 points cost 2000 minor units; points expire after 5 days.
    // Orders dated up to ~37 days back: a back-dating window that long.
    const p = await newProgram({ pointCostPer1000: 2000, expiryDays: 5, backdateDays: 60 });
    for (const t of [
      { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
      { name: "Silver", rank: 1, qualification: { windowDays: 365, minSpend: 10_000 } },
    ]) {
      expect((await call("POST", "/v1/tiers", { key: p.keys.admin, body: t })).status).toBe(201);
    }
    const now0 = Date.now();
    // The snapshot's day D is a week ahead, so the expiry sweep (at +6 days) falls inside it.
    const day = new Date(now0 + 7 * DAY).toISOString().slice(0, 10);
    const T = Date.parse(`${day}T00:00:00.000Z`) + DAY;
    const at = (daysBeforeT: number) => new Date(T - daysBeforeT * DAY).toISOString();

    const [m1, m2, m3, m4, m5] = [await newMember(p), await newMember(p), await newMember(p), await newMember(p), await newMember(p)];
    const m6 = await newMember(p);
    expect((await call("POST", `/v1/members/${m6.id}/erase`, { key: p.keys.admin })).status).toBe(200);

    const order = async (memberId: string, amount: number, daysBeforeT: number) => {
      const orderId = uniqueKey("o");
      const res = await accrue(p, memberId, amount, { orderId, occurredAt: at(daysBeforeT) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return orderId;
    };
    await order(m1.id, 10_000, 15);
    await order(m1.id, 5_000, 40);
    await order(m2.id, 8_000, 45);
    await order(m3.id, 2_000, 14);
    await order(m3.id, 3_000, 20);
    const refunded = await order(m4.id, 4_000, 10);
    expect(
      (await call("POST", `/v1/orders/${refunded}/refunds`, { key: p.keys.admin, idempotencyKey: uniqueKey(), body: { amount: 4_000 } }))
        .status,
    ).toBe(201);
    expect(
      (
        await call("POST", `/v1/members/${m3.id}/redemptions`, {
          key: p.keys.storefront,
          idempotencyKey: uniqueKey(),
          body: { points: 20, reason: "checkout" },
        })
      ).status,
    ).toBe(201);
    // Everything still held expires at +6 days (the sweep scoped to this program).
    await expireLots(db(), new Date(now0 + 6 * DAY), 500, { programId: p.programId });
    expect(
      (
        await call("POST", `/v1/members/${m5.id}/adjustments`, {
          key: p.keys.admin,
          idempotencyKey: uniqueKey(),
          body: { points: 7, reason: "goodwill" },
        })
      ).status,
    ).toBe(201);
    for (const [m, score] of [
      [m1, 10],
      [m2, 9],
      [m3, 7],
      [m5, 2],
    ] as const) {
      expect(
        (
          await call("POST", `/v1/members/${m.id}/feedback`, {
            key: p.keys.storefront,
            idempotencyKey: uniqueKey("fb"),
            body: { kind: "nps", score },
          })
        ).status,
      ).toBe(201);
    }

    // Expected, by hand from what was seeded above.
    const issued = 100 + 50 + 80 + 20 + 30 + 40 + 7;
    const redeemed = 20;
    const expired = 150 + 80 + (50 - 20);
    const outstanding = issued - 40 - redeemed - expired;
    const live = [m1, m2, m3, m4, m5];
    const views = await Promise.all(live.map(async (m) => (await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin })).body));
    const tally = (keys: string[]) => countBy(keys, (k) => k);
    const expected = {
      // Engaged: bought or reported an activity in the window — the NPS answers are activities (m1, m2, m3, m5),
      // and m4's order (refunded since) was its last activity.
      members: { total: 5, new: 0, new30d: 5, active30d: 2, engaged30d: 5 },
      activeRate: 2 / 5,
      activeDefinition: "purchases",
      retentionRate30d: 1 / 2,
      repurchaseRate: 2 / 3,
      conversionRate: 3 / 5,
      revenue30d: 15_000,
      orders30d: 3,
      arpu30d: 15_000 / 5,
      aov30d: 15_000 / 3,
      points: { issued, redeemed, expired, outstanding, debt: 0 },
      redemptionRate: redeemed / issued,
      breakageRate: expired / issued,
      pointsLiability: { points: outstanding, minor: Math.ceil((outstanding * 2000) / 1000) },
      tierDistribution: tally(views.map((v) => v.tier?.name ?? "none")),
      stageDistribution: tally(views.map((v) => v.analytics.stage)),
      churnRate30d: null,
      averageClv12m: null,
      nps: { score: 25, responses: 4, promoters: 2, passives: 1, detractors: 1 },
    };
    expect(outstanding).toBe(7);
    expect(expected.tierDistribution.Silver).toBe(1);

    // The hourly job snapshots the (local) day that just ended, for every program, once.
    const nightly = await snapshotAllPrograms(db(), new Date(T + 3 * 3_600_000));
    expect(nightly.days[p.programId]).toBe(day);
    const series = await call("GET", `/v1/kpis?from=${day}&to=${day}`, { key: p.keys.admin });
    expect(series.status).toBe(200);
    expect(series.body.data).toHaveLength(1);
    expect(series.body.data[0].day).toBe(day);
    expect(series.body.data[0].figures).toEqual(expected);
    // Idempotent: the same day again replaces, never duplicates.
    expect(await snapshotProgramDay(db(), p.programId, day)).toEqual(expected);
    expect((await call("GET", `/v1/kpis?from=${day}&to=${day}`, { key: p.keys.admin })).body.data).toHaveLength(1);

    // Live: as of now the expiry (dated +6 days) has not happened yet.
    const today = await call("GET", "/v1/kpis/today", { key: p.keys.admin });
    expect(today.status).toBe(200);
    expect(today.body.figures).toMatchObject({
      members: { total: 5, new: 5 },
      points: { issued, redeemed, expired: 0, outstanding: issued - 40 - redeemed },
      nps: expected.nps,
    });

    // Another program sees none of it; bad ranges are 400.
    const other = await newProgram();
    expect((await call("GET", `/v1/kpis?from=${day}&to=${day}`, { key: other.keys.admin })).body.data).toEqual([]);
    expect((await call("GET", "/v1/kpis?from=2026-02-10&to=2026-02-01", { key: p.keys.admin })).status).toBe(400);
    expect((await call("GET", "/v1/kpis?from=yesterday", { key: p.keys.admin })).status).toBe(400);
    expect((await call("GET", "/v1/kpis/today", { key: p.keys.storefront })).status).toBe(403);
  });
});
