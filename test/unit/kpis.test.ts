import { describe, expect, it } from "vitest";
import { type KpiAggregates, kpiFigures, liabilityMinor, netPromoterScore, ratio } from "../../src/domain/kpis/definitions";

const zero: KpiAggregates = {
  membersTotal: 0,
  membersNew: 0,
  membersNew30d: 0,
  buyers30d: 0,
  orders30d: 0,
  revenue30d: 0,
  buyersPrev30d: 0,
  retainedBuyers: 0,
  buyersEver: 0,
  repeatBuyersEver: 0,
  pointsIssued: 0,
  pointsRedeemed: 0,
  pointsExpired: 0,
  pointsOutstanding: 0,
  pointsDebt: 0,
  pointCostPer1000: 10,
  churnBase: 0,
  churnedInWindow: 0,
  clvSum: 0,
  clvScored: 0,
  npsPromoters: 0,
  npsPassives: 0,
  npsDetractors: 0,
  tierCounts: {},
  stageCounts: {},
};

describe("KPI formulas", () => {
  it("are null, not zero, without a denominator", () => {
    const f = kpiFigures(zero);
    expect([
      f.activeRate,
      f.retentionRate30d,
      f.repurchaseRate,
      f.conversionRate,
      f.arpu30d,
      f.aov30d,
      f.redemptionRate,
      f.breakageRate,
      f.churnRate30d,
      f.averageClv12m,
      f.nps.score,
    ]).toEqual(Array(11).fill(null));
    expect(ratio(0, 5)).toBe(0);
  });

  it("compute each figure from its aggregates", () => {
    const f = kpiFigures({
      ...zero,
      membersTotal: 200,
      membersNew: 3,
      membersNew30d: 40,
      buyers30d: 50,
      orders30d: 80,
      revenue30d: 400_000,
      buyersPrev30d: 60,
      retainedBuyers: 27,
      buyersEver: 120,
      repeatBuyersEver: 48,
      pointsIssued: 10_000,
      pointsRedeemed: 3_500,
      pointsExpired: 1_200,
      pointsOutstanding: 5_300,
      pointCostPer1000: 15,
      churnBase: 150,
      churnedInWindow: 12,
      clvSum: 1_000_000,
      clvScored: 80,
      npsPromoters: 30,
      npsPassives: 10,
      npsDetractors: 13,
      tierCounts: { Gold: 20, none: 180 },
      stageCounts: { active: 50, churned: 150 },
    });
    expect(f).toMatchObject({
      members: { total: 200, new: 3, new30d: 40, active30d: 50 },
      activeRate: 0.25,
      retentionRate30d: 0.45,
      repurchaseRate: 0.4,
      conversionRate: 0.6,
      arpu30d: 2000,
      aov30d: 5000,
      redemptionRate: 0.35,
      breakageRate: 0.12,
      pointsLiability: { points: 5_300, minor: 80 },
      churnRate30d: 0.08,
      averageClv12m: 12_500,
      tierDistribution: { Gold: 20, none: 180 },
      nps: { score: 32.1, responses: 53, promoters: 30, passives: 10, detractors: 13 },
    });
  });

  it("the points liability is net of the points members owe", () => {
    const f = kpiFigures({ ...zero, pointsOutstanding: 5_300, pointsDebt: 300, pointCostPer1000: 15 });
    expect(f.points).toMatchObject({ outstanding: 5_300, debt: 300 });
    expect(f.pointsLiability).toEqual({ points: 5_000, minor: 75 });
  });

  it("NPS runs from −100 to 100; liability rounds up and ignores a negative outstanding", () => {
    expect(netPromoterScore(10, 0, 0)).toBe(100);
    expect(netPromoterScore(0, 0, 4)).toBe(-100);
    expect(netPromoterScore(1, 1, 1)).toBe(0);
    expect(netPromoterScore(2, 1, 0)).toBe(66.7);
    expect(liabilityMinor(1, 10)).toBe(1);
    expect(liabilityMinor(1000, 10)).toBe(10);
    expect(liabilityMinor(-50, 10)).toBe(0);
  });
});
