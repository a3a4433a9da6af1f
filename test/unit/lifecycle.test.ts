import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIFECYCLE_THRESHOLDS,
  LIFECYCLE_STAGES,
  type LifecycleInput,
  lifecycleStage,
  lifecycleThresholdsSchema,
  wholeDaysBetween,
} from "../../src/domain/lifecycle/stages";

const DAY = 86_400_000;
const now = Date.parse("2025-06-01T12:00:00.000Z");
const daysAgo = (d: number) => new Date(now - d * DAY).toISOString();

/** A purchaser who joined long ago; override what the case is about. */
const member = (over: Partial<LifecycleInput>): LifecycleInput => ({
  now,
  joinedAt: daysAgo(1000),
  lastPurchaseAt: daysAgo(10),
  orders: 5,
  ...over,
});

describe("lifecycle thresholds", () => {
  it("has the documented defaults", () => {
    expect(DEFAULT_LIFECYCLE_THRESHOLDS).toEqual({
      newDays: 30,
      activeWithinDays: 90,
      dormantAfterDays: 90,
      atRiskAfterDays: 180,
      churnedAfterDays: 365,
      churnProbabilityAtRisk: 0.5,
      churnProbabilityChurned: 0.8,
      recency: "purchases",
    });
  });

  it("lets either of activeWithinDays / dormantAfterDays set the shared boundary", () => {
    expect(lifecycleThresholdsSchema.parse({ dormantAfterDays: 60 })).toMatchObject({ activeWithinDays: 60, dormantAfterDays: 60 });
    expect(lifecycleThresholdsSchema.parse({ activeWithinDays: 45 })).toMatchObject({ activeWithinDays: 45, dormantAfterDays: 45 });
    expect(lifecycleThresholdsSchema.parse({ activeWithinDays: 45, dormantAfterDays: 45 }).dormantAfterDays).toBe(45);
  });

  it("rejects inconsistent or unknown thresholds with clear messages", () => {
    const messages = (input: unknown) => {
      const r = lifecycleThresholdsSchema.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(messages({ activeWithinDays: 60, dormantAfterDays: 90 })).toEqual([
      "dormantAfterDays: activeWithinDays and dormantAfterDays are the same boundary; give one, or both equal",
    ]);
    expect(messages({ atRiskAfterDays: 90 })).toEqual(["atRiskAfterDays: atRiskAfterDays must be greater than dormantAfterDays"]);
    expect(messages({ churnedAfterDays: 180 })).toEqual(["churnedAfterDays: churnedAfterDays must be greater than atRiskAfterDays"]);
    expect(messages({ newDays: 120 })).toEqual(["newDays: newDays must not exceed dormantAfterDays"]);
    expect(messages({ churnProbabilityAtRisk: 0.9 })).toEqual([
      "churnProbabilityChurned: churnProbabilityChurned must not be below churnProbabilityAtRisk",
    ]);
    expect(messages({ churnProbabilityChurned: 1.5 })[0]).toMatch(/^churnProbabilityChurned: /);
    expect(messages({ newDays: -1 })[0]).toMatch(/^newDays: /);
    expect(messages({ newDays: 1.5 })[0]).toMatch(/^newDays: /);
    expect(messages({ dormantDays: 10 })[0]).toMatch(/dormantDays/);
  });
});

describe("whole days", () => {
  it("counts whole elapsed days, never negative", () => {
    expect(wholeDaysBetween(daysAgo(90), now)).toBe(90);
    expect(wholeDaysBetween(now - 90 * DAY + 1000, now)).toBe(89);
    expect(wholeDaysBetween(now - 90 * DAY - 1000, now)).toBe(90);
    expect(wholeDaysBetween(now + 5 * DAY, now)).toBe(0);
    expect(wholeDaysBetween(new Date(now - DAY), new Date(now))).toBe(1);
    expect(() => wholeDaysBetween("not a date", now)).toThrow(RangeError);
  });
});

describe("lifecycle stage of a purchaser", () => {
  it.each([
    [0, "active"],
    [90, "active"], // "within 90 days" includes day 90
    [91, "dormant"],
    [180, "dormant"],
    [181, "at_risk"],
    [365, "at_risk"],
    [366, "churned"],
    [2000, "churned"],
  ] as const)("%i days since the last purchase → %s", (days, stage) => {
    expect(lifecycleStage(member({ lastPurchaseAt: daysAgo(days) }))).toBe(stage);
  });

  it("uses the program's thresholds", () => {
    const thresholds = lifecycleThresholdsSchema.parse({ newDays: 14, dormantAfterDays: 30, atRiskAfterDays: 60, churnedAfterDays: 120 });
    const stageAt = (days: number) => lifecycleStage(member({ lastPurchaseAt: daysAgo(days), thresholds }));
    expect([30, 31, 60, 61, 120, 121].map(stageAt)).toEqual(["active", "dormant", "dormant", "at_risk", "at_risk", "churned"]);
  });

  it("is new while onboarding with at most one order, active after a second", () => {
    const joined = (days: number, orders: number) =>
      lifecycleStage(member({ joinedAt: daysAgo(days), lastPurchaseAt: daysAgo(Math.min(days, 2)), orders }));
    expect(joined(0, 1)).toBe("new");
    expect(joined(30, 1)).toBe("new");
    expect(joined(31, 1)).toBe("active");
    expect(joined(10, 2)).toBe("active");
  });

  it("accepts Date, epoch milliseconds and ISO strings", () => {
    const asDate = member({ now: new Date(now), joinedAt: new Date(now - 1000 * DAY), lastPurchaseAt: new Date(now - 200 * DAY) });
    const asMs = member({ now, joinedAt: now - 1000 * DAY, lastPurchaseAt: now - 200 * DAY });
    const asIso = member({ now: new Date(now).toISOString(), joinedAt: daysAgo(1000), lastPurchaseAt: daysAgo(200) });
    expect([asDate, asMs, asIso].map(lifecycleStage)).toEqual(["at_risk", "at_risk", "at_risk"]);
  });
});

describe("lifecycle stage of a member who never purchased", () => {
  it.each([
    [0, "new"],
    [30, "new"],
    [31, "dormant"],
    [180, "dormant"],
    [181, "at_risk"],
    [365, "at_risk"],
    [366, "churned"],
  ] as const)("joined %i days ago → %s", (days, stage) => {
    expect(lifecycleStage(member({ joinedAt: daysAgo(days), lastPurchaseAt: null, orders: 0 }))).toBe(stage);
    expect(lifecycleStage(member({ joinedAt: daysAgo(days), lastPurchaseAt: undefined, orders: 0 }))).toBe(stage);
  });

  it("ignores the churn probability (no purchase history to model)", () => {
    expect(lifecycleStage(member({ joinedAt: daysAgo(5), lastPurchaseAt: null, orders: 0, churnProbability: 0.99 }))).toBe("new");
    expect(lifecycleStage(member({ joinedAt: daysAgo(60), lastPurchaseAt: null, orders: 0, churnProbability: 0.99 }))).toBe("dormant");
  });
});

describe("churn probability overrides", () => {
  const at = (days: number, churnProbability: number | null | undefined) =>
    lifecycleStage(member({ lastPurchaseAt: daysAgo(days), churnProbability }));

  it("moves active and dormant members to at_risk or churned at the thresholds", () => {
    expect(at(10, 0.49)).toBe("active");
    expect(at(10, 0.5)).toBe("at_risk");
    expect(at(10, 0.79)).toBe("at_risk");
    expect(at(10, 0.8)).toBe("churned");
    expect(at(100, 0.2)).toBe("dormant");
    expect(at(100, 0.6)).toBe("at_risk");
    expect(at(100, 0.95)).toBe("churned");
  });

  it("never improves a stage set by recency", () => {
    expect(at(200, 0)).toBe("at_risk");
    expect(at(400, 0.1)).toBe("churned");
    expect(at(200, 0.5)).toBe("at_risk");
  });

  it("ignores missing or non-finite probabilities", () => {
    expect(at(10, null)).toBe("active");
    expect(at(10, undefined)).toBe("active");
    expect(at(10, Number.NaN)).toBe("active");
  });

  it("does not apply to new members", () => {
    expect(lifecycleStage(member({ joinedAt: daysAgo(3), lastPurchaseAt: daysAgo(3), orders: 1, churnProbability: 0.9 }))).toBe("new");
  });

  it("uses the program's probability thresholds", () => {
    const thresholds = lifecycleThresholdsSchema.parse({ churnProbabilityAtRisk: 0.3, churnProbabilityChurned: 0.6 });
    const stage = (p: number) => lifecycleStage(member({ churnProbability: p, thresholds }));
    expect([0.29, 0.3, 0.59, 0.6].map(stage)).toEqual(["active", "at_risk", "at_risk", "churned"]);
  });
});

it("exports the stages in journey order", () => {
  expect(LIFECYCLE_STAGES).toEqual(["new", "active", "dormant", "at_risk", "churned"]);
});
