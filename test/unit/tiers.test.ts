import { describe, expect, it } from "vitest";
import { progressToNextTier } from "../../src/domain/tiers/progress";
import { decideOnRequalification, decideOnWrite, qualifyingTier } from "../../src/domain/tiers/qualification";
import { type Tier, type TierFigures, tierLadderProblems, tierSchema } from "../../src/domain/tiers/schema";

// Spend in minor units: Silver at 500.00 or 5 orders; Gold at 2,000.00 and 10 orders; Diamond invite-free on points.
const tiers: Tier[] = [
  {
    id: "gold",
    name: "Gold",
    rank: 2,
    qualification: { windowDays: 365, mode: "all", minSpend: 200_000, minOrders: 10 },
    benefits: { discountPct: 10, pointsMultiplier: 1.5, freeShipping: true },
    graceDays: 30,
  },
  { id: "bronze", name: "Bronze", rank: 0, qualification: { windowDays: 365, mode: "any" }, benefits: {}, graceDays: 0 },
  {
    id: "diamond",
    name: "Diamond",
    rank: 3,
    qualification: { windowDays: 365, mode: "any", minPoints: 100_000 },
    benefits: { pointsMultiplier: 2, priorityService: true },
    graceDays: 60,
  },
  {
    id: "silver",
    name: "Silver",
    rank: 1,
    qualification: { windowDays: 180, mode: "any", minSpend: 50_000, minOrders: 5 },
    benefits: { discountPct: 5 },
    graceDays: 14,
  },
].map((t) => tierSchema.parse(t));

const fig = (spend: number, orders: number, pointsEarned = 0): TierFigures => ({ spend, orders, pointsEarned });
const NOW = "2025-03-01T00:00:00.000Z";
const daysFrom = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString();

describe("qualifyingTier", () => {
  it.each([
    ["nothing yet: entry tier", fig(0, 0), "bronze"],
    ["any: spend alone reaches Silver", fig(50_000, 1), "silver"],
    ["any: orders alone reach Silver", fig(100, 5), "silver"],
    ["all: Gold needs both spend and orders", fig(250_000, 9), "silver"],
    ["all: both met reaches Gold", fig(200_000, 10), "gold"],
    ["highest tier met wins, even skipping rungs", fig(0, 0, 100_000), "diamond"],
  ])("%s", (_, figures, expected) => {
    expect(qualifyingTier(tiers, figures).id).toBe(expected);
  });

  it("a higher tier without thresholds is invite-only", () => {
    const invite = tierSchema.parse({ id: "black", name: "Black", rank: 9, qualification: { windowDays: 365 } });
    expect(qualifyingTier([...tiers, invite], fig(9e9, 9e9, 9e9)).id).toBe("diamond");
  });

  it("ladder problems are reported", () => {
    expect(tierLadderProblems(tiers)).toEqual([]);
    expect(
      tierLadderProblems([
        { name: "A", rank: 1 },
        { name: "B", rank: 1 },
      ]),
    ).toEqual(["a tier with rank 0 (the entry tier) is required", 'tiers "A" and "B" share rank 1']);
  });
});

describe("decideOnWrite", () => {
  it("upgrades at once and secures the new tier for its window", () => {
    expect(decideOnWrite({ tiers, current: { tierId: "bronze", securedUntil: null }, figures: fig(200_000, 10), now: NOW })).toEqual({
      tierId: "gold",
      change: "upgrade",
      securedUntil: daysFrom(NOW, 365),
    });
    expect(decideOnWrite({ tiers, current: { tierId: "bronze", securedUntil: null }, figures: fig(60_000, 1), now: NOW })).toEqual({
      tierId: "silver",
      change: "upgrade",
      securedUntil: daysFrom(NOW, 180),
    });
  });

  it("never downgrades", () => {
    const current = { tierId: "gold", securedUntil: "2025-01-01T00:00:00.000Z" };
    expect(decideOnWrite({ tiers, current, figures: fig(0, 0), now: NOW })).toEqual({ ...current, change: "none" });
  });

  it("keeps the tier when the window reaches the same tier", () => {
    const current = { tierId: "silver", securedUntil: "2025-06-01T00:00:00.000Z" };
    expect(decideOnWrite({ tiers, current, figures: fig(60_000, 6), now: NOW })).toEqual({ ...current, change: "none" });
  });

  it("places a member without a (known) tier on the tier the window reaches", () => {
    expect(decideOnWrite({ tiers, current: { tierId: null, securedUntil: null }, figures: fig(0, 0), now: NOW })).toMatchObject({
      tierId: "bronze",
      change: "upgrade",
    });
  });
});

describe("decideOnRequalification", () => {
  const gold = (securedUntil: string | null) => ({ tierId: "gold", securedUntil });
  const cases: [
    string,
    { tierId: string; securedUntil: string | null },
    TierFigures,
    { tierId: string; change: string; securedUntil: string | null },
  ][] = [
    [
      "secured: no change even when figures dropped",
      gold("2025-04-01T00:00:00.000Z"),
      fig(0, 0),
      { tierId: "gold", change: "none", securedUntil: "2025-04-01T00:00:00.000Z" },
    ],
    [
      "expired and still qualifies: renew",
      gold("2025-02-01T00:00:00.000Z"),
      fig(200_000, 10),
      { tierId: "gold", change: "renew", securedUntil: daysFrom(NOW, 365) },
    ],
    [
      "expired and qualifies higher: upgrade",
      gold("2025-02-01T00:00:00.000Z"),
      fig(0, 0, 150_000),
      { tierId: "diamond", change: "upgrade", securedUntil: daysFrom(NOW, 365) },
    ],
    [
      "secured but qualifies higher: upgrade (a write missed it)",
      gold("2025-12-01T00:00:00.000Z"),
      fig(0, 0, 150_000),
      { tierId: "diamond", change: "upgrade", securedUntil: daysFrom(NOW, 365) },
    ],
    [
      "expired, not qualifying, inside grace: stay",
      gold("2025-02-10T00:00:00.000Z"),
      fig(60_000, 3),
      { tierId: "gold", change: "grace", securedUntil: "2025-02-10T00:00:00.000Z" },
    ],
    [
      "grace over: down to what the window supports",
      gold("2025-01-15T00:00:00.000Z"),
      fig(60_000, 3),
      { tierId: "silver", change: "downgrade", securedUntil: daysFrom(NOW, 180) },
    ],
    [
      "grace over with nothing in the window: entry tier",
      gold("2025-01-01T00:00:00.000Z"),
      fig(0, 0),
      { tierId: "bronze", change: "downgrade", securedUntil: daysFrom(NOW, 365) },
    ],
    [
      "grace ends exactly now: downgrade",
      gold("2025-01-30T00:00:00.000Z"),
      fig(0, 0),
      { tierId: "bronze", change: "downgrade", securedUntil: daysFrom(NOW, 365) },
    ],
    ["never secured: no grace", gold(null), fig(60_000, 3), { tierId: "silver", change: "downgrade", securedUntil: daysFrom(NOW, 180) }],
    [
      "entry tier renews",
      { tierId: "bronze", securedUntil: "2025-01-01T00:00:00.000Z" },
      fig(0, 0),
      { tierId: "bronze", change: "renew", securedUntil: daysFrom(NOW, 365) },
    ],
  ];
  it.each(cases)("%s", (_, current, figures, expected) => {
    expect(decideOnRequalification({ tiers, current, figures, now: NOW })).toEqual(expected);
  });
});

describe("decideOnRequalification with an assigned tier", () => {
  const assigned = (tierId: string, until: string) => ({ tierId, until });
  it("never goes below an assigned tier before its end date, and does after it", () => {
    // Diamond (reached by points) lapsed, its grace over, nothing in the window; Gold assigned until April.
    const diamond = { tierId: "diamond", securedUntil: "2024-12-01T00:00:00.000Z" };
    const during = decideOnRequalification({
      tiers,
      current: diamond,
      assigned: assigned("gold", "2025-04-01T00:00:00.000Z"),
      figures: fig(0, 0),
      now: NOW,
    });
    expect(during).toEqual({ tierId: "gold", change: "downgrade", securedUntil: "2025-04-01T00:00:00.000Z" });
    const after = decideOnRequalification({
      tiers,
      current: diamond,
      assigned: assigned("gold", "2025-01-15T00:00:00.000Z"),
      figures: fig(0, 0),
      now: NOW,
    });
    expect(after).toEqual({ tierId: "bronze", change: "downgrade", securedUntil: daysFrom(NOW, 365) });
  });

  it("leaves a member at the assigned tier alone, and lets figures move them above it", () => {
    const atGold = { tierId: "gold", securedUntil: "2025-01-01T00:00:00.000Z" };
    expect(
      decideOnRequalification({
        tiers,
        current: atGold,
        assigned: assigned("gold", "2025-04-01T00:00:00.000Z"),
        figures: fig(0, 0),
        now: NOW,
      }),
    ).toEqual({ tierId: "gold", change: "none", securedUntil: "2025-01-01T00:00:00.000Z" });
    expect(
      decideOnRequalification({
        tiers,
        current: atGold,
        assigned: assigned("gold", "2025-04-01T00:00:00.000Z"),
        figures: fig(0, 0, 150_000),
        now: NOW,
      }),
    ).toMatchObject({ tierId: "diamond", change: "upgrade" });
  });

  it("never reaches an invite-only tier by figures", () => {
    const inviteOnlyGold = tiers.map((t) => (t.id === "gold" ? { ...t, inviteOnly: true } : t));
    expect(qualifyingTier(inviteOnlyGold, fig(500_000, 20)).id).toBe("silver");
    expect(tierLadderProblems([{ name: "Entry", rank: 0, inviteOnly: true }])).toEqual([
      "the entry tier (rank 0) is everyone's and cannot be invite-only",
    ]);
  });
});

describe("progressToNextTier", () => {
  const window = { windowStart: "2024-09-02T00:00:00.000Z", windowEnd: NOW };

  it("any mode: best requirement, message offers either path", () => {
    const p = progressToNextTier({ tiers, currentTierId: "bronze", figures: fig(38_000, 3), securedUntil: null, ...window });
    expect(p).toEqual({
      current: { id: "bronze", name: "Bronze", benefits: {} },
      next: { id: "silver", name: "Silver", benefits: { discountPct: 5 } },
      mode: "any",
      requirements: [
        { metric: "spend", required: 50_000, current: 38_000, missing: 12_000, percent: 76 },
        { metric: "orders", required: 5, current: 3, missing: 2, percent: 60 },
      ],
      percent: 76,
      qualifiesForNext: false,
      securedUntil: null,
      window: { from: window.windowStart, to: NOW, days: 180 },
      message: "Spend 120.00 more or place 2 more orders to reach Silver",
    });
  });

  it("all mode: worst requirement, message lists only what is missing", () => {
    const p = progressToNextTier({
      tiers,
      currentTierId: "silver",
      figures: fig(150_000, 12),
      securedUntil: "2025-08-01T00:00:00.000Z",
      currency: "USD",
      ...window,
    });
    expect(p.next?.id).toBe("gold");
    expect(p.requirements.map((r) => [r.metric, r.missing, r.percent])).toEqual([
      ["spend", 50_000, 75],
      ["orders", 0, 100],
    ]);
    expect(p.percent).toBe(75);
    expect(p.message).toBe("Spend $500.00 more to reach Gold");
    expect(p.securedUntil).toBe("2025-08-01T00:00:00.000Z");
  });

  it("all mode with several gaps joins them with 'and'", () => {
    const p = progressToNextTier({
      tiers,
      currentTierId: "silver",
      figures: fig(199_999, 9),
      securedUntil: null,
      currency: "EUR",
      locale: "en-IE",
      ...window,
    });
    expect(p.message).toBe("Spend €0.01 more and place 1 more order to reach Gold");
    expect(p.percent).toBe(90);
  });

  it("formats currencies with their own decimals", () => {
    const yen = tiers.map((t) =>
      t.id === "silver" ? { ...t, qualification: { ...t.qualification, minSpend: 50_000, minOrders: undefined } } : t,
    );
    const p = progressToNextTier({
      tiers: yen,
      currentTierId: "bronze",
      figures: fig(38_000, 0),
      securedUntil: null,
      currency: "JPY",
      ...window,
    });
    expect(p.message).toBe("Spend ¥12,000 more to reach Silver");
  });

  it("points requirement and singular wording", () => {
    const p = progressToNextTier({ tiers, currentTierId: "gold", figures: fig(0, 0, 99_999), securedUntil: null, ...window });
    expect(p.message).toBe("Earn 1 more point to reach Diamond");
    expect(p.percent).toBe(99);
  });

  it("already qualifying for the next tier", () => {
    const p = progressToNextTier({ tiers, currentTierId: "bronze", figures: fig(60_000, 0), securedUntil: null, ...window });
    expect(p).toMatchObject({ percent: 100, qualifiesForNext: true, message: "You qualify for Silver: your upgrade is on its way" });
  });

  it("top tier has no next", () => {
    const p = progressToNextTier({
      tiers,
      currentTierId: "diamond",
      figures: fig(0, 0),
      securedUntil: "2026-01-01T00:00:00.000Z",
      ...window,
    });
    expect(p).toMatchObject({ next: null, requirements: [], percent: 100, message: "You're at our top tier, Diamond" });
  });

  it("unknown current tier is shown as the entry tier", () => {
    expect(progressToNextTier({ tiers, currentTierId: "gone", figures: fig(0, 0), securedUntil: null, ...window }).current.id).toBe(
      "bronze",
    );
  });
});
