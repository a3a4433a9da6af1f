import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EarningMember, type EngineRule, type EvaluateRulesInput, evaluateRules, refundReversal } from "../../src/domain/rules/engine";
import { type RuleConditions, type RuleDefinitionInput, ruleDefinitionSchema } from "../../src/domain/rules/schema";

// 1 point per 1.00 spent.
const program = { basePointsPerUnit: 1, unitMinor: 100 };
const SATURDAY = "2024-06-01T12:00:00.000Z";

function rule(id: string, def: Partial<RuleDefinitionInput> = {}): EngineRule {
  const parsed = ruleDefinitionSchema.parse({
    name: id,
    trigger: { type: "purchase" },
    effect: { type: "fixed", points: 10 },
    ...def,
  });
  return { ...parsed, id };
}

type Order = NonNullable<EvaluateRulesInput["event"]["order"]>;
function purchase(order: Partial<Order> = {}, occurredAt = SATURDAY): EvaluateRulesInput["event"] {
  return { trigger: { type: "purchase" }, occurredAt, order: { amount: 10_000, ...order } };
}

function run(over: Partial<EvaluateRulesInput> & { rules: EngineRule[] }) {
  return evaluateRules({
    program,
    event: purchase(),
    member: { tierId: "silver", tierMultiplier: 1, segmentIds: ["vip"], isFirstPurchase: false },
    usage: {},
    ...over,
  });
}

const ruleLines = (r: ReturnType<typeof run>) => r.lines.filter((l) => l.ruleId !== "base").map((l) => [l.ruleId, l.points]);
const skipOf = (r: ReturnType<typeof run>, id: string) => r.skipped.find((s) => s.ruleId === id)?.reason;

describe("base earn", () => {
  it("purchases earn the program base rate on the order amount, floored", () => {
    const r = run({ rules: [], event: purchase({ amount: 12_399 }) });
    expect(r).toMatchObject({ points: 123, basePoints: 123, tierMultiplier: 1 });
    expect(r.lines).toEqual([
      {
        ruleId: "base",
        name: "Base earn",
        effect: { type: "per_currency_unit", points: 1, perMinorUnits: 100 },
        points: 123,
        eligibleAmount: 12_399,
      },
    ]);
  });

  it("other triggers have no base line", () => {
    const r = run({
      rules: [rule("welcome", { trigger: { type: "signup" }, effect: { type: "fixed", points: 500 } })],
      event: { trigger: { type: "signup" }, occurredAt: SATURDAY },
    });
    expect(r.basePoints).toBe(0);
    expect(r.lines.map((l) => l.ruleId)).toEqual(["welcome"]);
    expect(r.points).toBe(500);
  });
});

describe("effects", () => {
  it.each([
    ["per_currency_unit 2 per 1.00 on 100.00", { type: "per_currency_unit", points: 2, perMinorUnits: 100 }, 10_000, 200],
    ["per_currency_unit floors partial units", { type: "per_currency_unit", points: 5, perMinorUnits: 1000 }, 9_999, 45],
    ["fixed", { type: "fixed", points: 77 }, 10_000, 77],
    ["multiplier ×2 adds base once more", { type: "multiplier", factor: 2 }, 10_000, 100],
    ["multiplier ×1.5 floors the extra", { type: "multiplier", factor: 1.5 }, 10_100, 50],
    ["multiplier ×1.15 ignores binary noise", { type: "multiplier", factor: 1.15 }, 10_000, 15],
    ["multiplier ×1 adds nothing", { type: "multiplier", factor: 1 }, 10_000, 0],
  ] as const)("%s", (_, effect, amount, expected) => {
    const r = run({ rules: [rule("r", { effect })], event: purchase({ amount }) });
    const line = r.lines.find((l) => l.ruleId === "r");
    expect(line?.points ?? 0).toBe(expected);
    expect(r.points).toBe(Math.floor(amount / 100) + expected);
  });
});

describe("priority and stacking", () => {
  it("stackable rules add up and are listed by priority, ties by id", () => {
    const r = run({ rules: [rule("b", { priority: 1 }), rule("z", { priority: 5 }), rule("a", { priority: 1 })] });
    expect(ruleLines(r)).toEqual([
      ["z", 10],
      ["a", 10],
      ["b", 10],
    ]);
    expect(r.points).toBe(100 + 30);
  });

  it("an exclusive rule wins over lower-priority rules but keeps the base earn", () => {
    const r = run({
      rules: [
        rule("low", { priority: 1 }),
        rule("promo", { priority: 10, stackable: false, effect: { type: "fixed", points: 300 } }),
        rule("lower", { priority: 0, stackable: false }),
      ],
    });
    expect(ruleLines(r)).toEqual([["promo", 300]]);
    expect(r.points).toBe(100 + 300);
    expect(skipOf(r, "low")).toBe("exclusive_rule_applied");
    expect(skipOf(r, "lower")).toBe("exclusive_rule_applied");
  });

  it("higher-priority stackable rules still apply alongside a lower exclusive one", () => {
    const r = run({
      rules: [rule("top", { priority: 20 }), rule("excl", { priority: 10, stackable: false }), rule("bottom", { priority: 0 })],
    });
    expect(ruleLines(r)).toEqual([
      ["top", 10],
      ["excl", 10],
    ]);
    expect(skipOf(r, "bottom")).toBe("exclusive_rule_applied");
  });

  it("an exclusive rule that does not match, or is exhausted, blocks nothing", () => {
    const r = run({
      rules: [
        rule("app-only", { priority: 30, stackable: false, conditions: { channels: ["app"] } }),
        rule("spent", { priority: 20, stackable: false, budgetPoints: 100 }),
        rule("normal", { priority: 0 }),
      ],
      usage: { spent: { memberPoints: 0, totalPoints: 100 } },
    });
    expect(ruleLines(r)).toEqual([["normal", 10]]);
    expect(skipOf(r, "app-only")).toBe("channel");
    expect(skipOf(r, "spent")).toBe("budget_exhausted");
  });

  it("is deterministic whatever order the rules come in", () => {
    const rules = [rule("a", { priority: 3 }), rule("b", { priority: 3, stackable: false }), rule("c", { priority: 9 }), rule("d")];
    const expected = run({ rules });
    fc.assert(
      fc.property(fc.shuffledSubarray(rules, { minLength: 4, maxLength: 4 }), (shuffled) => {
        expect(run({ rules: shuffled })).toEqual(expected);
      }),
    );
  });
});

describe("caps and budgets", () => {
  const capped = rule("cap", { effect: { type: "fixed", points: 50 }, capPerMember: 100, budgetPoints: 1_000 });
  it.each([
    ["no usage yet", { memberPoints: 0, totalPoints: 0 }, 50, undefined, undefined],
    ["member cap clamps partially", { memberPoints: 80, totalPoints: 80 }, 20, "member_cap", undefined],
    ["member cap reached", { memberPoints: 100, totalPoints: 500 }, 0, undefined, "member_cap_reached"],
    ["member over cap (defensive)", { memberPoints: 130, totalPoints: 500 }, 0, undefined, "member_cap_reached"],
    ["budget clamps partially", { memberPoints: 0, totalPoints: 990 }, 10, "budget", undefined],
    ["budget exhausted", { memberPoints: 0, totalPoints: 1_000 }, 0, undefined, "budget_exhausted"],
    ["tighter of the two wins", { memberPoints: 70, totalPoints: 985 }, 15, "budget", undefined],
  ] as const)("%s", (_, used, points, clampedBy, reason) => {
    const r = run({ rules: [capped], usage: { cap: used } });
    const line = r.lines.find((l) => l.ruleId === "cap");
    expect(line?.points ?? 0).toBe(points);
    expect(line?.clampedBy).toBe(clampedBy);
    expect(skipOf(r, "cap")).toBe(reason);
    expect(r.points).toBe(100 + points);
  });

  it("caps count the rule line before the tier multiplier", () => {
    const r = run({
      rules: [capped],
      usage: { cap: { memberPoints: 80, totalPoints: 0 } },
      member: { tierMultiplier: 2, segmentIds: [], isFirstPurchase: false },
    });
    expect(r.lines.find((l) => l.ruleId === "cap")?.points).toBe(20);
    expect(r.points).toBe((100 + 20) * 2);
  });
});

describe("item conditions restrict the eligible amount per item", () => {
  const items = [
    { sku: "TEA-1", category: "tea", quantity: 2, unitPrice: 1_500 },
    { sku: "TEA-2", category: "tea", quantity: 1, unitPrice: 2_000 },
    { sku: "MUG-1", category: "homeware", quantity: 1, unitPrice: 3_000 },
    { sku: "GIFT", quantity: 1, unitPrice: 2_000 },
  ];
  const perUnit = { type: "per_currency_unit", points: 1, perMinorUnits: 100 } as const;
  const itemCases: [string, RuleConditions, number][] = [
    ["sku include", { skus: { include: ["TEA-1", "MUG-1"] } }, 6_000],
    ["sku exclude", { skus: { exclude: ["GIFT"] } }, 8_000],
    ["category include", { categories: { include: ["tea"] } }, 5_000],
    ["category include skips items without a category", { categories: { include: ["tea", "homeware"] } }, 8_000],
    ["category exclude keeps items without a category", { categories: { exclude: ["tea"] } }, 5_000],
    ["category include with sku exclude", { categories: { include: ["tea"] }, skus: { exclude: ["TEA-2"] } }, 3_000],
    ["empty lists mean no restriction", { skus: { include: [], exclude: [] } }, 10_000],
  ];
  it.each(itemCases)("%s", (_, conditions, eligible) => {
    const r = run({ rules: [rule("r", { effect: perUnit, conditions })], event: purchase({ amount: 10_000, items }) });
    const line = r.lines.find((l) => l.ruleId === "r");
    expect(line?.eligibleAmount).toBe(eligible);
    expect(line?.points).toBe(eligible / 100);
  });

  it("a rule with item conditions and no matching item does not fire", () => {
    const r = run({
      rules: [rule("r", { conditions: { skus: { include: ["NOPE"] } } }), rule("s", { conditions: { categories: { include: ["tea"] } } })],
      event: purchase({ amount: 10_000, items: [{ sku: "MUG-1", quantity: 1, unitPrice: 10_000 }] }),
    });
    expect(skipOf(r, "r")).toBe("no_eligible_items");
    expect(skipOf(r, "s")).toBe("no_eligible_items");
    expect(r.points).toBe(100);
  });

  it("an order without items cannot satisfy item conditions", () => {
    const r = run({ rules: [rule("r", { conditions: { skus: { exclude: ["X"] } } })] });
    expect(skipOf(r, "r")).toBe("no_eligible_items");
  });

  it("order-level discounts scale item values down pro rata", () => {
    // Items total 100.00, shopper paid 75.00: the tea (50.00) is worth 37.50 of the payment.
    const r = run({
      rules: [rule("r", { effect: perUnit, conditions: { categories: { include: ["tea"] } } })],
      event: purchase({ amount: 7_500, items }),
    });
    expect(r.lines.find((l) => l.ruleId === "r")).toMatchObject({ eligibleAmount: 3_750, points: 37 });
  });

  it("multiplier rules multiply the base earn on the eligible items only", () => {
    const r = run({
      rules: [rule("tea-x3", { effect: { type: "multiplier", factor: 3 }, conditions: { categories: { include: ["tea"] } } })],
      event: purchase({ amount: 10_000, items }),
    });
    expect(r.lines.find((l) => l.ruleId === "tea-x3")?.points).toBe(100); // base on 50.00 = 50, × (3 − 1)
    expect(r.points).toBe(200);
  });
});

describe("order, member and time conditions", () => {
  const member = { tierId: "silver", tierMultiplier: 1, segmentIds: ["vip", "coffee"], isFirstPurchase: false };
  const conditionCases: [string, RuleConditions, Partial<Order>, Partial<EarningMember>, string | null][] = [
    ["minAmount met (inclusive)", { minAmount: 10_000 }, {}, {}, null],
    ["minAmount not met", { minAmount: 10_001 }, {}, {}, "min_amount"],
    ["maxAmount met (inclusive)", { maxAmount: 10_000 }, {}, {}, null],
    ["maxAmount exceeded", { maxAmount: 9_999 }, {}, {}, "max_amount"],
    ["channel matches", { channels: ["web", "app"] }, { channel: "app" }, {}, null],
    ["channel differs", { channels: ["web"] }, { channel: "pos" }, {}, "channel"],
    ["channel missing on the order", { channels: ["web"] }, {}, {}, "channel"],
    ["store matches", { stores: ["taipei-101"] }, { storeId: "taipei-101" }, {}, null],
    ["store differs", { stores: ["taipei-101"] }, { storeId: "tainan" }, {}, "store"],
    ["tier matches", { tierIds: ["gold", "silver"] }, {}, {}, null],
    ["tier differs", { tierIds: ["gold"] }, {}, {}, "tier"],
    ["member without tier", { tierIds: ["gold"] }, {}, { tierId: null }, "tier"],
    ["segment overlaps", { segmentIds: ["coffee", "tea"] }, {}, {}, null],
    ["segment differs", { segmentIds: ["tea"] }, {}, {}, "segment"],
    ["first purchase only, on a first purchase", { firstPurchase: true }, {}, { isFirstPurchase: true }, null],
    ["first purchase only, on a repeat", { firstPurchase: true }, {}, {}, "first_purchase"],
    ["repeat purchases only, on a first purchase", { firstPurchase: false }, {}, { isFirstPurchase: true }, "first_purchase"],
    ["day of week: Saturday (UTC)", { daysOfWeek: [0, 6] }, {}, {}, null],
    ["day of week: weekdays only", { daysOfWeek: [1, 2, 3, 4, 5] }, {}, {}, "day_of_week"],
    ["window: starts exactly now", { startsAt: SATURDAY }, {}, {}, null],
    ["window: not started", { startsAt: "2024-06-02T00:00:00Z" }, {}, {}, "not_started"],
    ["window: end is exclusive", { endsAt: SATURDAY }, {}, {}, "ended"],
    ["window: inside", { startsAt: "2024-06-01T00:00:00Z", endsAt: "2024-06-03T00:00:00Z" }, {}, {}, null],
  ];
  it.each(conditionCases)("%s", (_, conditions, order, memberOver, reason) => {
    const r = run({ rules: [rule("r", { conditions })], event: purchase(order), member: { ...member, ...memberOver } });
    expect(skipOf(r, "r") ?? null).toBe(reason);
    expect(r.points).toBe(reason ? 100 : 110);
  });

  it("inactive rules and other triggers do not apply", () => {
    const r = run({ rules: [rule("off", { active: false }), rule("signup", { trigger: { type: "signup" } })] });
    expect(skipOf(r, "off")).toBe("inactive");
    expect(skipOf(r, "signup")).toBe("trigger_mismatch");
    expect(r.points).toBe(100);
  });
});

describe("non-purchase triggers", () => {
  const activity = (kind?: string) => ({ trigger: { type: "activity" as const, kind }, occurredAt: SATURDAY });
  const rules = [
    rule("checkin", { trigger: { type: "activity", kind: "store_checkin" }, effect: { type: "fixed", points: 20 } }),
    rule("any-activity", { trigger: { type: "activity" }, effect: { type: "fixed", points: 1 } }),
    rule("big-spender", { trigger: { type: "activity" }, conditions: { minAmount: 1 } }),
  ];
  it("an activity rule with a kind only matches that kind; without a kind it matches any", () => {
    expect(run({ rules, event: activity("store_checkin") }).points).toBe(21);
    const other = run({ rules, event: activity("app_login") });
    expect(other.points).toBe(1);
    expect(skipOf(other, "checkin")).toBe("kind_mismatch");
  });
  it("order conditions fail without an order", () => {
    expect(skipOf(run({ rules, event: activity("x") }), "big-spender")).toBe("no_order");
  });
  it("review, survey, referral and birthday rules fire on their own trigger", () => {
    for (const type of ["review", "survey", "referral", "birthday"] as const) {
      const r = run({
        rules: [rule(type, { trigger: { type }, effect: { type: "fixed", points: 40 } })],
        event: { trigger: { type }, occurredAt: SATURDAY },
      });
      expect(r.points).toBe(40);
    }
  });
});

describe("tier multiplier and rounding", () => {
  it.each([
    [1, 110],
    [1.5, 165],
    [1.25, 137], // 110 × 1.25 = 137.5
    [2, 220],
  ])("×%d on top of the sum", (tierMultiplier, expected) => {
    const r = run({ rules: [rule("r")], member: { tierMultiplier, segmentIds: [], isFirstPurchase: false } });
    expect(r.points).toBe(expected);
    expect(r.tierMultiplier).toBe(tierMultiplier);
  });

  it("floors once, at the end", () => {
    // 1 + 1 points × 1.5: per-line flooring would give 2, flooring the sum gives 3.
    const r = run({
      rules: [rule("r", { effect: { type: "fixed", points: 1 } })],
      event: purchase({ amount: 100 }),
      member: { tierMultiplier: 1.5, segmentIds: [], isFirstPurchase: false },
    });
    expect(r.points).toBe(3);
  });

  it("defaults to ×1", () => {
    expect(run({ rules: [], member: { segmentIds: [], isFirstPurchase: false } }).points).toBe(100);
  });
});

describe("never negative", () => {
  it("negative amounts, usage or multipliers never produce negative points", () => {
    const r = run({
      rules: [rule("r", { effect: { type: "per_currency_unit", points: 1, perMinorUnits: 100 }, capPerMember: 10 })],
      event: { trigger: { type: "purchase" }, occurredAt: SATURDAY, order: { amount: -5_000 } },
      member: { tierMultiplier: -3, segmentIds: [], isFirstPurchase: false },
      usage: { r: { memberPoints: -50, totalPoints: -50 } },
    });
    expect(r.points).toBe(0);
    expect(r.lines.every((l) => l.points >= 0)).toBe(true);
  });

  it("holds for arbitrary orders and rule sets", () => {
    const effect = fc.oneof(
      fc.record({
        type: fc.constant("per_currency_unit" as const),
        points: fc.integer({ min: 1, max: 10 }),
        perMinorUnits: fc.integer({ min: 1, max: 1000 }),
      }),
      fc.record({ type: fc.constant("fixed" as const), points: fc.integer({ min: 1, max: 1000 }) }),
      fc.record({ type: fc.constant("multiplier" as const), factor: fc.double({ min: 1, max: 5, noNaN: true }) }),
    );
    const arbRule = fc.record({
      effect,
      priority: fc.integer({ min: 0, max: 5 }),
      stackable: fc.boolean(),
      capPerMember: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(arbRule, { maxLength: 6 }),
        fc.integer({ min: -1_000, max: 1_000_000 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (defs, amount, tierMultiplier) => {
          const rules = defs.map((d, i) => rule(`r${i}`, d));
          const r = run({ rules, event: purchase({ amount }), member: { tierMultiplier, segmentIds: [], isFirstPurchase: true } });
          expect(Number.isInteger(r.points)).toBe(true);
          expect(r.points).toBeGreaterThanOrEqual(0);
          expect(r.lines.every((l) => Number.isInteger(l.points) && l.points >= 0)).toBe(true);
          defs.forEach((d, i) => {
            const line = r.lines.find((l) => l.ruleId === `r${i}`);
            if (d.capPerMember && line) expect(line.points).toBeLessThanOrEqual(d.capPerMember);
          });
        },
      ),
    );
  });
});

describe("rule schema", () => {
  it("applies defaults and rejects typos and inconsistent windows", () => {
    const ok = ruleDefinitionSchema.parse({ name: "x", trigger: { type: "purchase" }, effect: { type: "fixed", points: 5 } });
    expect(ok).toMatchObject({ priority: 0, stackable: true, active: true, conditions: {} });
    const bad = (extra: object) =>
      ruleDefinitionSchema.safeParse({ name: "x", trigger: { type: "purchase" }, effect: { type: "fixed", points: 5 }, ...extra }).success;
    expect(bad({ conditions: { minAmout: 5 } })).toBe(false);
    expect(bad({ conditions: { minAmount: 10, maxAmount: 5 } })).toBe(false);
    expect(bad({ conditions: { startsAt: "2024-02-01T00:00:00Z", endsAt: "2024-01-01T00:00:00Z" } })).toBe(false);
    expect(bad({ conditions: { daysOfWeek: [7] } })).toBe(false);
    expect(bad({ effect: { type: "per_currency_unit", points: 1, perMinorUnits: 0 } })).toBe(false);
    expect(bad({ effect: { type: "multiplier", factor: 0.5 } })).toBe(false);
  });
});

describe("refund reversal", () => {
  it.each([
    ["full refund reverses all", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 0, refundAmount: 3_000 }, 100],
    ["half refund", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 0, refundAmount: 1_500 }, 50],
    ["partial floors", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 0, refundAmount: 1_000 }, 33],
    ["remainder after partials", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 2_000, refundAmount: 1_000 }, 34],
    ["refunding more than the order", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 2_000, refundAmount: 5_000 }, 34],
    ["already fully refunded", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 3_000, refundAmount: 500 }, 0],
    ["nothing earned", { earnedPoints: 0, orderAmount: 3_000, refundedSoFar: 0, refundAmount: 3_000 }, 0],
    ["free order that earned points", { earnedPoints: 50, orderAmount: 0, refundedSoFar: 0, refundAmount: 0 }, 0],
    ["negative input", { earnedPoints: 100, orderAmount: 3_000, refundedSoFar: 0, refundAmount: -100 }, 0],
  ])("%s", (_, input, expected) => {
    expect(refundReversal(input)).toBe(expected);
  });

  it("thirds sum to exactly what was earned", () => {
    let refundedSoFar = 0;
    const steps = [1_000, 1_000, 1_000].map((refundAmount) => {
      const points = refundReversal({ earnedPoints: 100, orderAmount: 3_000, refundedSoFar, refundAmount });
      refundedSoFar += refundAmount;
      return points;
    });
    expect(steps).toEqual([33, 33, 34]);
  });

  it("any sequence of partial refunds never reverses more than earned; a full refund reverses exactly all", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (earnedPoints, orderAmount, fractions) => {
          let refundedSoFar = 0;
          let reversed = 0;
          const refunds = fractions.map((f) => Math.floor((f * orderAmount) / 4));
          refunds.push(orderAmount); // finally refund the rest (and then some)
          for (const refundAmount of refunds) {
            const step = refundReversal({ earnedPoints, orderAmount, refundedSoFar, refundAmount });
            expect(Number.isInteger(step) && step >= 0).toBe(true);
            reversed += step;
            refundedSoFar += refundAmount;
            expect(reversed).toBeLessThanOrEqual(earnedPoints);
          }
          expect(reversed).toBe(earnedPoints);
        },
      ),
    );
  });
});
