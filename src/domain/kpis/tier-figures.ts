// Per-tier KPIs of a daily snapshot. As of T (the end of the snapshot's local day), over the
// members on each tier when the snapshot is taken (current state, like tierDistribution; the
// nightly snapshot runs just after the day ends); a member not yet placed on a tier counts on the
// entry tier (lowest rank), as earning treats them. Money in minor units; a rate is null when its
// denominator is 0.
//
// members              members (not erased, created before T) on the tier
// retentionRate30d     of those who bought in [T − 60d, T − 30d), the share who bought in [T − 30d, T)
// repurchaseRate       of those who ever bought (before T), the share with ≥ 2 orders
// aov30d               revenue / orders in [T − 30d, T) (orders not refunded in full, net of refunds)
// spendPerMember30d    revenue in [T − 30d, T) / members
// points.earned30d     points earned (earn entries credited) in [T − 30d, T)
// points.redeemed30d   points redeemed (redeem entries) in [T − 30d, T)
// upgrades.in / .out   members moved up into / out of the tier during the day (a member's first
//                      placement on a tier is not counted)
// downgrades.in / .out members moved down into / out of the tier during the day

import { ratio } from "./definitions";

export type TierAggregates = {
  members: number;
  revenue30d: number;
  orders30d: number;
  buyersPrev30d: number;
  retainedBuyers: number;
  buyersEver: number;
  repeatBuyersEver: number;
  pointsEarned30d: number;
  pointsRedeemed30d: number;
  upgradesIn: number;
  upgradesOut: number;
  downgradesIn: number;
  downgradesOut: number;
};

export function tierFigures(a: TierAggregates) {
  return {
    members: a.members,
    retentionRate30d: ratio(a.retainedBuyers, a.buyersPrev30d),
    repurchaseRate: ratio(a.repeatBuyersEver, a.buyersEver),
    aov30d: ratio(a.revenue30d, a.orders30d),
    spendPerMember30d: ratio(a.revenue30d, a.members),
    revenue30d: a.revenue30d,
    orders30d: a.orders30d,
    points: { earned30d: a.pointsEarned30d, redeemed30d: a.pointsRedeemed30d },
    upgrades: { in: a.upgradesIn, out: a.upgradesOut },
    downgrades: { in: a.downgradesIn, out: a.downgradesOut },
  };
}
