// KPI definitions: what each figure in a daily snapshot means, and the formulas that turn
// the SQL aggregates (src/services/kpis/kpis.ts) into figures. Everything is "as of" an instant
// T (the end of the snapshot's UTC day, or now for /v1/kpis/today); "30d" windows are
// [T − 30 days, T). Money is integer minor units (ratios of money are plain numbers).
// Erased members are not members. An order counts unless it was refunded in full; its
// revenue is amount − refunded amount.
//
// members.total          members (not erased) created before T
// members.new            members created on the snapshot's day [T − 1 day, T)
// members.new30d         members created in the 30d window
// members.active30d      members with at least one order in the 30d window
// activeRate             active members / members.total, by the definition `activeDefinition` names (the
//                        program's lifecycle setting `recency`): "purchases" = members.active30d (bought
//                        in the 30d window); "activities" = members.engaged30d (bought, or last reported an
//                        activity — review, visit, app login — in the window; the activity side from the
//                        member's last activity, so a past day counts those whose latest activity fell in it)
// retentionRate30d       of the members who bought in the previous window [T − 60d, T − 30d),
//                        the share who bought again in the 30d window
// repurchaseRate         of the members who ever bought (before T), the share with ≥ 2 orders
// conversionRate         member purchase rate: members who ever bought / members.total
// arpu30d                revenue in the 30d window / members.total (average revenue per member)
// aov30d                 revenue in the 30d window / orders in the 30d window (average order value)
// redemptionRate         points redeemed (net of cancelled coupons, released or voided reserves and reversed
//                        redemptions: `return` entries) / points issued, lifetime to T
// breakageRate           points expired / points issued, lifetime to T
// pointsLiability        points outstanding (Σ ledger to T) net of members' points debt (Σ ledger debt to T:
//                        clawbacks owed, repaid from future points), and its cost: points × pointCostPer1000
//                        / 1000, rounded up
// tierDistribution       members per tier name ("none" without a tier) — current state, as of the run
// stageDistribution      members per lifecycle stage — current state, as of the run
// churnRate30d           members who became churned in the 30d window (stage = churned, stage_since
//                        in the window) / members not churned at the window's start (created before
//                        it, not churned before it)
// averageClv12m          mean 12-month CLV over scored members (minor units)
// nps                    over NPS answers (0–10) in the 90 days before T: % promoters (9–10) −
//                        % detractors (0–6), from −100 to 100
//
// Rates are null when their denominator is 0 (not 0: "no data" is not "zero percent").

export type KpiAggregates = {
  membersTotal: number;
  membersNew: number;
  membersNew30d: number;
  buyers30d: number;
  /** Bought, or last reported an activity, in the 30d window. */
  engaged30d?: number;
  /** Which members are active: buyers, or buyers and members reporting activities. */
  activeDefinition?: "purchases" | "activities";
  orders30d: number;
  revenue30d: number;
  buyersPrev30d: number;
  retainedBuyers: number;
  buyersEver: number;
  repeatBuyersEver: number;
  pointsIssued: number;
  pointsRedeemed: number;
  pointsExpired: number;
  pointsOutstanding: number;
  pointsDebt: number;
  pointCostPer1000: number;
  churnBase: number;
  churnedInWindow: number;
  clvSum: number;
  clvScored: number;
  npsPromoters: number;
  npsPassives: number;
  npsDetractors: number;
  tierCounts: Record<string, number>;
  stageCounts: Record<string, number>;
};

export const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

/** NPS = % promoters − % detractors, rounded to one decimal; null without answers. */
export function netPromoterScore(promoters: number, passives: number, detractors: number): number | null {
  const n = promoters + passives + detractors;
  return n > 0 ? Math.round(((promoters - detractors) / n) * 1000) / 10 : null;
}

/** Liability in money: the program's cost of the outstanding points, rounded up. */
export const liabilityMinor = (points: number, pointCostPer1000: number) => Math.ceil((Math.max(0, points) * pointCostPer1000) / 1000);

export function kpiFigures(a: KpiAggregates) {
  return {
    members: {
      total: a.membersTotal,
      new: a.membersNew,
      new30d: a.membersNew30d,
      active30d: a.buyers30d,
      engaged30d: a.engaged30d ?? a.buyers30d,
    },
    activeRate: ratio(a.activeDefinition === "activities" ? (a.engaged30d ?? a.buyers30d) : a.buyers30d, a.membersTotal),
    activeDefinition: a.activeDefinition ?? "purchases",
    retentionRate30d: ratio(a.retainedBuyers, a.buyersPrev30d),
    repurchaseRate: ratio(a.repeatBuyersEver, a.buyersEver),
    conversionRate: ratio(a.buyersEver, a.membersTotal),
    revenue30d: a.revenue30d,
    orders30d: a.orders30d,
    arpu30d: ratio(a.revenue30d, a.membersTotal),
    aov30d: ratio(a.revenue30d, a.orders30d),
    points: {
      issued: a.pointsIssued,
      redeemed: a.pointsRedeemed,
      expired: a.pointsExpired,
      outstanding: a.pointsOutstanding,
      debt: a.pointsDebt,
    },
    redemptionRate: ratio(a.pointsRedeemed, a.pointsIssued),
    breakageRate: ratio(a.pointsExpired, a.pointsIssued),
    pointsLiability: {
      points: a.pointsOutstanding - a.pointsDebt,
      minor: liabilityMinor(a.pointsOutstanding - a.pointsDebt, a.pointCostPer1000),
    },
    tierDistribution: a.tierCounts,
    stageDistribution: a.stageCounts,
    churnRate30d: ratio(a.churnedInWindow, a.churnBase),
    averageClv12m: ratio(a.clvSum, a.clvScored),
    nps: {
      score: netPromoterScore(a.npsPromoters, a.npsPassives, a.npsDetractors),
      responses: a.npsPromoters + a.npsPassives + a.npsDetractors,
      promoters: a.npsPromoters,
      passives: a.npsPassives,
      detractors: a.npsDetractors,
    },
  };
}
