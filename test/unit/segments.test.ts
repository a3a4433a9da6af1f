import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIFECYCLE_STAGES } from "../../src/domain/lifecycle/stages";
import { quintileEdgesFromTiles, type RfmInput, rfmEdges, rfmQuintileEdges, rfmScore, scoreWithEdges } from "../../src/domain/segments/rfm";
import {
  birthdayMonthOf,
  compileSegmentRuleToSql,
  evaluateSegmentRule,
  type MemberFacts,
  memberFactsFromRow,
  memberSqlFields,
  parseSegmentRule,
  type SegmentRule,
  segmentPredicate,
  segmentRuleSchema,
} from "../../src/domain/segments/rule";
import { VALUE_SEGMENTS, valueSegment } from "../../src/domain/segments/value-segments";

const scoresOf = (values: number[], higherIsBetter = true) => {
  const edges = rfmQuintileEdges(values);
  return values.map((v) => scoreWithEdges(v, edges, higherIsBetter));
};

/** NTILE(5) tile of each position in a sorted list, as SQL computes it. */
const ntile = (n: number) => {
  const base = Math.floor(n / 5);
  const extra = n % 5;
  const tiles: number[] = [];
  for (let k = 0; k < 5; k++) for (let i = 0; i < base + (k < extra ? 1 : 0); i++) tiles.push(k + 1);
  return tiles;
};

describe("RFM quintile edges", () => {
  it("splits ten distinct values into five classes of two, halfway between tiles", () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(rfmQuintileEdges(values)).toEqual([25, 45, 65, 85]);
    expect(scoresOf(values)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(scoresOf(values, false)).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
  });

  it("does not depend on input order and ignores non-finite values", () => {
    expect(rfmQuintileEdges([100, 10, 90, 20, 80, 30, 70, 40, 60, 50, Number.NaN, Infinity])).toEqual([25, 45, 65, 85]);
  });

  it("matches SQL NTILE(5) for distinct values of any size ≥ 5", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 5, maxLength: 60 }), (values) => {
        const sorted = [...values].sort((a, b) => a - b);
        const edges = rfmQuintileEdges(values);
        const tiles = ntile(sorted.length);
        sorted.forEach((v, i) => {
          expect(scoreWithEdges(v, edges, true)).toBe(tiles[i]);
          expect(scoreWithEdges(v, edges, false)).toBe(6 - tiles[i]);
        });
      }),
    );
  });

  it("gives tied values the same score, in both directions", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 80 }), fc.boolean(), (values, higher) => {
        const edges = rfmQuintileEdges(values);
        const byValue = new Map<number, number>();
        for (const v of values) {
          const s = scoreWithEdges(v, edges, higher);
          expect(byValue.get(v) ?? s).toBe(s);
          byValue.set(v, s);
        }
      }),
    );
  });

  it("scores monotonically and within 1..5 for any edges from data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 50 }),
        fc.double({ min: -2e6, max: 2e6, noNaN: true }),
        fc.double({ min: -2e6, max: 2e6, noNaN: true }),
        (values, a, b) => {
          const edges = rfmQuintileEdges(values);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const up = [scoreWithEdges(lo, edges, true), scoreWithEdges(hi, edges, true)];
          const down = [scoreWithEdges(lo, edges, false), scoreWithEdges(hi, edges, false)];
          expect(up[0]).toBeLessThanOrEqual(up[1]);
          expect(down[0]).toBeGreaterThanOrEqual(down[1]);
          for (const s of [...up, ...down]) expect(s >= 1 && s <= 5).toBe(true);
        },
      ),
    );
  });

  it("gives everyone 1 when all values are equal", () => {
    expect(rfmQuintileEdges([3, 3, 3, 3, 3, 3, 3])).toEqual([3, 3, 3, 3]);
    expect(scoresOf([3, 3, 3, 3, 3, 3, 3])).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(scoresOf([3, 3, 3, 3, 3, 3, 3], false)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // A member scored later than the sample and above it still ranks on top.
    expect(scoreWithEdges(4, [3, 3, 3, 3], true)).toBe(5);
    expect(scoreWithEdges(2, [3, 3, 3, 3], false)).toBe(5);
  });

  it("keeps one-time buyers at F = 1 when most members bought once", () => {
    // 70 % bought once, 15 % twice, 10 % three times, 5 % five times.
    const frequencies = [...Array(70).fill(1), ...Array(15).fill(2), ...Array(10).fill(3), ...Array(5).fill(5)];
    const edges = rfmQuintileEdges(frequencies);
    expect(edges).toEqual([1, 1, 1, 2]);
    expect([1, 2, 3, 5].map((f) => scoreWithEdges(f, edges, true))).toEqual([1, 4, 5, 5]);
    // 10 members: the tie at 1 spans tiles 1–4, the edge between tiles 4 and 5 sits at 2.5.
    const small = [1, 1, 1, 1, 1, 1, 1, 2, 3, 5];
    expect(rfmQuintileEdges(small)).toEqual([1, 1, 1, 2.5]);
    expect(scoresOf(small)).toEqual([1, 1, 1, 1, 1, 1, 1, 4, 5, 5]);
  });

  it("spreads fewer than five purchasers over 1..5", () => {
    expect(scoresOf([20, 10])).toEqual([5, 1]);
    expect(scoresOf([10, 20, 30])).toEqual([1, 3, 5]);
    expect(scoresOf([10, 20, 30, 40])).toEqual([1, 2, 4, 5]);
    expect(scoresOf([10, 20, 30, 40], false)).toEqual([5, 4, 2, 1]);
    expect(scoresOf([10, 10, 20])).toEqual([1, 1, 5]);
  });

  it("scores a single purchaser 1, and anything 1 without data", () => {
    expect(rfmQuintileEdges([42])).toEqual([42, 42, 42, 42]);
    expect(scoresOf([42])).toEqual([1]);
    expect(scoresOf([42], false)).toEqual([1]);
    expect(rfmQuintileEdges([])).toEqual([]);
    expect(scoreWithEdges(1_000_000, [], true)).toBe(1);
    expect(scoreWithEdges(0, [], false)).toBe(1);
  });

  it("builds the same edges from SQL tile bounds", () => {
    const values = [5, 1, 1, 2, 9, 9, 9, 14, 3, 8, 8, 30, 2];
    const sorted = [...values].sort((a, b) => a - b);
    const tiles = ntile(sorted.length);
    const rows = [1, 2, 3, 4, 5].map((t) => {
      const inTile = sorted.filter((_, i) => tiles[i] === t);
      return { min: Math.min(...inTile), max: Math.max(...inTile) };
    });
    expect(quintileEdgesFromTiles(rows)).toEqual(rfmQuintileEdges(values));
    expect(quintileEdgesFromTiles([])).toEqual([]);
    expect(() => quintileEdgesFromTiles([...rows, rows[4]])).toThrow(/at most 5 tiles/);
    expect(() => quintileEdgesFromTiles([rows[2], rows[0]])).toThrow(/ordered/);
  });

  it("rejects malformed edges and scores non-numbers 1", () => {
    expect(() => scoreWithEdges(1, [1, 2, 3, 4, 5], true)).toThrow(/at most 4/);
    expect(() => scoreWithEdges(1, [4, 3, 2, 1], true)).toThrow(/ascending/);
    expect(scoreWithEdges(Number.NaN, [1, 2, 3, 4], true)).toBe(1);
    expect(scoreWithEdges(Number.NaN, [1, 2, 3, 4], false)).toBe(1);
  });
});

describe("RFM scores of members", () => {
  const members: RfmInput[] = [
    { recencyDays: 2, frequency: 12, monetary: 90_000 },
    { recencyDays: 15, frequency: 6, monetary: 40_000 },
    { recencyDays: 40, frequency: 3, monetary: 12_000 },
    { recencyDays: 120, frequency: 2, monetary: 8_000 },
    { recencyDays: 400, frequency: 1, monetary: 1_000 },
    // Never purchased: left out of the edges.
    { recencyDays: null, frequency: 0, monetary: 0 },
    { recencyDays: null, frequency: 0, monetary: 0 },
    { recencyDays: null, frequency: 0, monetary: 0 },
  ];
  const edges = rfmEdges(members);

  it("computes edges over purchasers only", () => {
    expect(edges.frequency).toEqual([1.5, 2.5, 4.5, 9]);
    expect(edges.recency).toEqual([8.5, 27.5, 80, 260]);
  });

  it("scores each dimension, recency reversed, with score = r + f + m", () => {
    expect(rfmScore(members[0], edges)).toEqual({ r: 5, f: 5, m: 5, score: 15 });
    expect(rfmScore(members[2], edges)).toEqual({ r: 3, f: 3, m: 3, score: 9 });
    expect(rfmScore(members[4], edges)).toEqual({ r: 1, f: 1, m: 1, score: 3 });
    expect(rfmScore({ recencyDays: 1, frequency: 1, monetary: 200_000 }, edges)).toEqual({ r: 5, f: 1, m: 5, score: 11 });
  });

  it("gives members with no purchase R = F = M = 1", () => {
    expect(rfmScore(members[5], edges)).toEqual({ r: 1, f: 1, m: 1, score: 3 });
    expect(rfmScore({ recencyDays: undefined, frequency: 3, monetary: 10 }, edges)).toEqual({ r: 1, f: 1, m: 1, score: 3 });
    expect(rfmScore({ recencyDays: 5, frequency: 0, monetary: 0 }, edges)).toEqual({ r: 1, f: 1, m: 1, score: 3 });
  });
});

describe("value segments", () => {
  it.each([
    // r, f, m, orders → segment (the table in value-segments.ts)
    [5, 1, 3, 1, "new"],
    [4, 1, 5, 1, "new"],
    [3, 1, 5, 1, "loyal"], // one purchase, not recent enough to be "new"
    [5, 5, 5, 9, "champions"],
    [4, 4, 4, 6, "champions"],
    [4, 3, 5, 6, "champions"],
    [4, 3, 4, 4, "loyal"],
    [3, 5, 5, 9, "loyal"],
    [5, 2, 4, 2, "loyal"],
    [5, 2, 3, 2, "potential"],
    [3, 1, 2, 2, "potential"],
    [2, 5, 5, 9, "at_risk"],
    [1, 3, 3, 4, "at_risk"],
    [2, 2, 3, 2, "hibernating"],
    [2, 1, 1, 1, "hibernating"],
    [1, 2, 3, 2, "lost"],
    [1, 1, 1, 1, "lost"],
  ] as const)("R%i F%i M%i with %i orders → %s", (r, f, m, orders, segment) => {
    expect(valueSegment({ r, f, m, orders })).toBe(segment);
  });

  it("has no value segment for members who never purchased", () => {
    expect(valueSegment({ r: 1, f: 1, m: 1, orders: 0 })).toBeNull();
  });

  it("covers every RFM combination with exactly the exported segments", () => {
    const seen = new Set<string>();
    for (const r of [1, 2, 3, 4, 5] as const)
      for (const f of [1, 2, 3, 4, 5] as const)
        for (const m of [1, 2, 3, 4, 5] as const)
          for (const orders of [1, 2, 10]) {
            const s = valueSegment({ r, f, m, orders });
            expect(VALUE_SEGMENTS).toContain(s);
            seen.add(s!);
          }
    expect([...seen].sort()).toEqual([...VALUE_SEGMENTS].sort());
  });
});

// ---------------------------------------------------------------- custom segment rules

const errorsOf = (input: unknown) => {
  const r = parseSegmentRule(input);
  return r.ok ? [] : r.errors;
};
const rule = (input: unknown): SegmentRule => segmentRuleSchema.parse(input);
const matches = (input: unknown, facts: MemberFacts) => evaluateSegmentRule(rule(input), facts);

const alice: MemberFacts = {
  tierId: "gold",
  tierRank: 2,
  tags: ["vip", "newsletter"],
  stage: "active",
  rfm: { r: 5, f: 4, m: 3, score: 12 },
  valueSegment: "champions",
  churnProbability: 0.1,
  clv: 120_000,
  balance: 3_500,
  lifetimeSpend: 250_000,
  orders: 14,
  daysSinceLastPurchase: 12,
  joinedDaysAgo: 400,
  birthdayMonth: 6,
  consent: { email: true, sms: false },
  lastNps: 9,
  feedbackTags: ["fast-delivery"],
  attributes: { city: "Taipei", age: 34, vip: true, favourite: ["tea", "cake"], since: "2023-04-01", nothing: null },
};
/** A member with nothing known. */
const blank: MemberFacts = {};

describe("segment rule parsing", () => {
  it("accepts conditions on every field family and nesting", () => {
    const r = parseSegmentRule({
      and: [
        { field: "stage", op: "in", value: ["dormant", "at_risk"] },
        {
          or: [
            { field: "rfm.m", op: "gte", value: 4 },
            { field: "tags", op: "contains", value: "vip" },
          ],
        },
        { not: { field: "consent.email", op: "eq", value: false } },
        { field: "attributes.city", op: "eq", value: "Taipei" },
        { field: "churnProbability", op: "between", value: [0.5, 1] },
        { field: "lastNps", op: "exists", value: true },
      ],
    });
    expect(r.ok).toBe(true);
  });

  it("names unknown fields and lists the valid ones", () => {
    const [message] = errorsOf({ field: "tagz", op: "contains", value: "vip" });
    expect(message).toMatch(
      /^field: unknown field "tagz": expected one of tierId, tierRank, tags, .*consent\.<email\|sms\|push\|line\|wechat>, attributes\.<key>$/,
    );
    expect(errorsOf({ field: "consent.fax", op: "eq", value: true })).toEqual([
      'field: unknown field "consent.fax": consent channels are email, sms, push, line, wechat',
    ]);
    expect(errorsOf({ field: "attributes.", op: "exists", value: true })[0]).toMatch(/unknown field "attributes\.": attribute keys/);
    expect(errorsOf({ field: 'attributes.a"b', op: "exists", value: true })[0]).toMatch(/attribute keys/);
    expect(errorsOf({ field: "rfm", op: "exists", value: true })[0]).toMatch(/unknown field "rfm"/);
  });

  it("names unknown ops and ops that do not fit the field", () => {
    expect(errorsOf({ field: "orders", op: "like", value: 3 })).toEqual([
      'op: unknown op "like": expected one of eq, neq, gt, gte, lt, lte, in, nin, contains, exists, between',
    ]);
    expect(errorsOf({ field: "tags", op: "eq", value: "vip" })).toEqual([
      'op: op "eq" does not apply to tags (a list of strings): use one of contains, in, nin, exists',
    ]);
    expect(errorsOf({ field: "tierId", op: "gt", value: "a" })[0]).toMatch(/op "gt" does not apply to tierId \(a string\)/);
    expect(errorsOf({ field: "consent.sms", op: "in", value: [true] })[0]).toMatch(/does not apply to consent\.sms \(true or false\)/);
    expect(errorsOf({ field: "orders", op: "contains", value: 3 })[0]).toMatch(/op "contains" does not apply to orders \(a number\)/);
  });

  it("checks values against the field and op", () => {
    expect(errorsOf({ field: "orders", op: "gt", value: "3" })).toEqual(["value: gt on orders needs a value that is a number"]);
    expect(errorsOf({ field: "stage", op: "eq", value: "sleeping" })).toEqual([
      `value: eq on stage needs a value that is one of ${LIFECYCLE_STAGES.join(", ")}`,
    ]);
    expect(errorsOf({ field: "valueSegment", op: "in", value: ["champions", "vip"] })[0]).toMatch(
      /list items that are one of champions.*\(got "vip"\)/,
    );
    expect(errorsOf({ field: "tags", op: "in", value: [] })).toEqual(["value: in on tags needs a list of 1–1000 values"]);
    expect(errorsOf({ field: "tags", op: "nin", value: "vip" })).toEqual(["value: nin on tags needs a list of 1–1000 values"]);
    expect(errorsOf({ field: "clv", op: "between", value: [10] })).toEqual(["value: between on clv needs a value [min, max]"]);
    expect(errorsOf({ field: "clv", op: "between", value: [10, 5] })).toEqual(["value: between on clv needs min ≤ max"]);
    expect(errorsOf({ field: "attributes.x", op: "between", value: [1, "z"] })).toEqual([
      "value: between on attributes.x needs [min, max] of the same type",
    ]);
    expect(errorsOf({ field: "lastNps", op: "exists" })).toEqual(["value: exists on lastNps needs value true or false"]);
    expect(errorsOf({ field: "lastNps", op: "exists", value: "yes" })).toEqual(["value: exists on lastNps needs value true or false"]);
    expect(errorsOf({ field: "consent.email", op: "eq", value: "true" })).toEqual([
      "value: eq on consent.email needs a value that is true or false",
    ]);
    expect(errorsOf({ field: "attributes.x", op: "eq", value: { a: 1 } })[0]).toMatch(/a string, number or boolean/);
    expect(errorsOf({ field: "balance", op: "eq", value: null })).toEqual(["value: eq on balance needs a value that is a number"]);
    expect(errorsOf({ field: "balance", op: "lt", value: Number.NaN })).toEqual(["value: lt on balance needs a value that is a number"]);
  });

  it("rejects malformed nodes with paths into the tree", () => {
    expect(errorsOf({})[0]).toMatch(/^a rule node is exactly one of/);
    expect(errorsOf({ and: [{ field: "orders", op: "gt", value: 1 }], field: "orders" })[0]).toMatch(/exactly one of/);
    expect(errorsOf({ and: [] })[0]).toMatch(/^and: /);
    expect(errorsOf({ or: [{ field: "orders" }] })).toEqual(["or[0].op: a condition needs an op"]);
    expect(errorsOf({ op: "eq", value: 1 })).toEqual(["field: a condition needs a field"]);
    expect(errorsOf({ field: "orders", op: "gt", value: 1, extra: true })).toEqual(['Unrecognized key: "extra"']);
    expect(errorsOf({ AND: [] })).toContain('Unrecognized key: "AND"');
    expect(errorsOf({ field: 3, op: "eq", value: 1 })).toEqual(['field: field must be a string such as "tags" or "attributes.city"']);
    expect(errorsOf({ and: [{ field: "orders", op: "gt", value: 1 }, { not: { field: "tags", op: "gte", value: 1 } }] })).toEqual([
      'and[1].not.op: op "gte" does not apply to tags (a list of strings): use one of contains, in, nin, exists',
    ]);
    expect(errorsOf("orders > 3")[0]).toMatch(/expected object/);
    expect(errorsOf(null)[0]).toMatch(/expected object/);
  });

  it("allows nesting up to depth 8 and no deeper", () => {
    const leaf = { field: "orders", op: "gt", value: 0 };
    const nest = (levels: number): unknown => (levels === 1 ? leaf : { not: nest(levels - 1) });
    expect(parseSegmentRule(nest(8)).ok).toBe(true);
    expect(errorsOf(nest(9))).toEqual(["a segment rule may nest at most 8 levels deep"]);
    const andNest = (levels: number): unknown => (levels === 1 ? leaf : { and: [leaf, andNest(levels - 1)] });
    expect(parseSegmentRule(andNest(8)).ok).toBe(true);
    expect(errorsOf(andNest(9))).toEqual(["a segment rule may nest at most 8 levels deep"]);
    // A hostile document is refused without walking it all (and without a stack overflow).
    let hostile: unknown = leaf;
    for (let i = 0; i < 100_000; i++) hostile = { not: hostile };
    expect(errorsOf(hostile)).toEqual(["a segment rule may nest at most 8 levels deep"]);
  });

  it("limits the size of a rule", () => {
    const leaf = { field: "orders", op: "gt", value: 0 };
    expect(errorsOf({ or: Array(101).fill(leaf) })[0]).toMatch(/^or: /);
    const wide = { or: Array(6).fill({ and: Array(100).fill(leaf) }) };
    expect(errorsOf(wide)).toEqual(["a segment rule may have at most 500 nodes"]);
  });
});

describe("segment rule evaluation", () => {
  it.each([
    // field, op, value, matches alice
    ["tierId", "eq", "gold", true],
    ["tierId", "eq", "silver", false],
    ["tierId", "neq", "silver", true],
    ["tierId", "neq", "gold", false],
    ["tierRank", "gt", 1, true],
    ["tierRank", "gt", 2, false],
    ["tierRank", "gte", 2, true],
    ["tierRank", "lt", 2, false],
    ["tierRank", "lte", 2, true],
    ["tierRank", "in", [2, 3], true],
    ["tierRank", "nin", [2, 3], false],
    ["stage", "in", ["active", "new"], true],
    ["stage", "nin", ["dormant", "churned"], true],
    ["rfm.r", "eq", 5, true],
    ["rfm.f", "gte", 4, true],
    ["rfm.m", "lt", 3, false],
    ["rfm.score", "between", [12, 15], true],
    ["rfm.score", "between", [3, 12], true],
    ["rfm.score", "between", [13, 15], false],
    ["valueSegment", "eq", "champions", true],
    ["churnProbability", "lt", 0.5, true],
    ["clv", "gte", 100_000, true],
    ["balance", "between", [1_000, 5_000], true],
    ["lifetimeSpend", "gt", 250_000, false],
    ["orders", "eq", 14, true],
    ["daysSinceLastPurchase", "lte", 30, true],
    ["joinedDaysAgo", "gt", 365, true],
    ["birthdayMonth", "eq", 6, true],
    ["consent.email", "eq", true, true],
    ["consent.sms", "eq", true, false],
    ["consent.sms", "neq", true, true],
    ["lastNps", "gte", 9, true],
    ["tags", "contains", "vip", true],
    ["tags", "contains", "VIP", false],
    ["tags", "in", ["vip", "staff"], true],
    ["tags", "in", ["staff"], false],
    ["tags", "nin", ["staff", "blocked"], true],
    ["tags", "nin", ["staff", "newsletter"], false],
    ["tags", "exists", true, true],
    ["feedbackTags", "contains", "fast-delivery", true],
    ["attributes.city", "eq", "Taipei", true],
    ["attributes.city", "in", ["Taipei", "Tainan"], true],
    ["attributes.city", "contains", "aip", true],
    ["attributes.age", "gt", 30, true],
    ["attributes.age", "eq", "34", false],
    ["attributes.age", "gt", "30", false],
    ["attributes.age", "between", [30, 40], true],
    ["attributes.vip", "eq", true, true],
    ["attributes.vip", "eq", 1, false],
    ["attributes.favourite", "contains", "tea", true],
    ["attributes.favourite", "in", ["cake", "pie"], true],
    ["attributes.favourite", "nin", ["pie"], true],
    ["attributes.favourite", "eq", "tea", false],
    ["attributes.since", "lt", "2024-01-01", true],
    ["attributes.since", "between", ["2023-01-01", "2023-12-31"], true],
    ["attributes.nothing", "exists", false, true],
    ["attributes.nothing", "exists", true, false],
    ["attributes.missing", "exists", false, true],
    ["attributes.constructor", "exists", false, true],
    ["attributes.toString", "eq", "x", false],
  ] as const)("%s %s %j → %s", (field, op, value, expected) => {
    expect(matches({ field, op, value }, alice)).toBe(expected);
  });

  it("never matches a missing value except with exists: false", () => {
    const conditions: Array<[string, string, unknown]> = [
      ["tierId", "eq", "gold"],
      ["tierId", "neq", "gold"],
      ["tierRank", "gt", 0],
      ["tierRank", "lte", 100],
      ["churnProbability", "between", [0, 1]],
      ["stage", "in", ["new"]],
      ["stage", "nin", ["churned"]],
      ["tags", "contains", "vip"],
      ["tags", "in", ["vip"]],
      ["tags", "nin", ["vip"]],
      ["rfm.r", "eq", 1],
      ["consent.email", "eq", false],
      ["consent.email", "neq", true],
      ["attributes.city", "neq", "x"],
      ["attributes.city", "nin", ["x"]],
      ["attributes.city", "contains", "x"],
    ];
    for (const [field, op, value] of conditions) {
      expect(matches({ field, op, value }, blank)).toBe(false);
      expect(
        matches(
          { field, op, value },
          { tierId: null, tierRank: null, stage: null, tags: null, rfm: null, consent: null, attributes: null },
        ),
      ).toBe(false);
      expect(matches({ field, op, value: value }, { ...blank, rfm: {}, consent: {}, attributes: {} })).toBe(false);
    }
    for (const field of ["tierId", "tags", "rfm.score", "consent.push", "attributes.city", "lastNps"]) {
      expect(matches({ field, op: "exists", value: false }, blank)).toBe(true);
      expect(matches({ field, op: "exists", value: true }, blank)).toBe(false);
    }
    // NaN counts as missing, an empty list as present.
    expect(matches({ field: "clv", op: "exists", value: false }, { clv: Number.NaN })).toBe(true);
    expect(matches({ field: "clv", op: "neq", value: 1 }, { clv: Number.NaN })).toBe(false);
    expect(matches({ field: "tags", op: "exists", value: true }, { tags: [] })).toBe(true);
    expect(matches({ field: "tags", op: "nin", value: ["vip"] }, { tags: [] })).toBe(true);
  });

  it("treats not as plain negation, so it does include missing values", () => {
    expect(matches({ not: { field: "churnProbability", op: "gt", value: 0.5 } }, blank)).toBe(true);
    expect(matches({ field: "churnProbability", op: "lte", value: 0.5 }, blank)).toBe(false);
  });

  it("combines and / or / not", () => {
    const winBack = {
      and: [
        { field: "stage", op: "in", value: ["dormant", "at_risk"] },
        {
          or: [
            { field: "rfm.m", op: "gte", value: 4 },
            { field: "tierRank", op: "gte", value: 2 },
          ],
        },
        { not: { field: "tags", op: "contains", value: "do-not-disturb" } },
        { field: "consent.email", op: "eq", value: true },
      ],
    };
    const lapsedGold: MemberFacts = { stage: "at_risk", rfm: { m: 2 }, tierRank: 2, tags: [], consent: { email: true } };
    expect(matches(winBack, lapsedGold)).toBe(true);
    expect(matches(winBack, { ...lapsedGold, stage: "active" })).toBe(false);
    expect(matches(winBack, { ...lapsedGold, tierRank: 1 })).toBe(false);
    expect(matches(winBack, { ...lapsedGold, tierRank: 1, rfm: { m: 5 } })).toBe(true);
    expect(matches(winBack, { ...lapsedGold, tags: ["do-not-disturb"] })).toBe(false);
    expect(matches(winBack, { ...lapsedGold, consent: {} })).toBe(false);
    expect(matches({ not: { not: { field: "orders", op: "gt", value: 3 } } }, alice)).toBe(true);
    expect(
      matches(
        {
          or: [
            { field: "orders", op: "lt", value: 3 },
            { field: "orders", op: "gt", value: 100 },
          ],
        },
        alice,
      ),
    ).toBe(false);
  });

  it("reuses the compiled predicate for the same rule", () => {
    const r = rule({ field: "orders", op: "gt", value: 3 });
    expect(segmentPredicate(r)).toBe(segmentPredicate(r));
    expect([alice, blank, { orders: 4 }].map(segmentPredicate(r))).toEqual([true, false, true]);
  });
});

describe("member facts from a member row", () => {
  const now = "2025-06-01T12:00:00.000Z";
  it("maps columns and derives day counts, RFM score and birthday month", () => {
    const facts = memberFactsFromRow(
      {
        tierId: "gold",
        tags: ["vip"],
        stage: "active",
        rfmR: 5,
        rfmF: 4,
        rfmM: 3,
        valueSegment: "champions",
        churnProbability: 0.2,
        clv12m: 5000,
        pointsBalance: 120,
        lifetimeSpend: 90_000,
        ordersCount: 7,
        lastPurchaseAt: "2025-05-22T12:00:01.000Z",
        createdAt: "2024-06-01T12:00:00.000Z",
        birthday: "1990-03-14",
        consent: { email: true, sms: false },
        lastNps: 8,
        feedbackTags: [],
        attributes: { city: "Taipei" },
      },
      { now, tierRank: 2 },
    );
    expect(facts).toMatchObject({ tierRank: 2, rfm: { r: 5, f: 4, m: 3, score: 12 }, clv: 5000, balance: 120, orders: 7 });
    expect(facts.daysSinceLastPurchase).toBe(9); // one second short of 10 days
    expect(facts.joinedDaysAgo).toBe(365);
    expect(facts.birthdayMonth).toBe(3);
    expect(memberFactsFromRow({ rfmR: 5, rfmF: null, rfmM: 1 }, { now }).rfm?.score).toBeNull();
    expect(memberFactsFromRow({}, { now })).toMatchObject({ daysSinceLastPurchase: null, joinedDaysAgo: null, tierRank: null });
  });

  it("reads birthdays with or without a year", () => {
    expect(["1990-03-14", "--12-25", "2001-11-30T00:00:00Z", "14/03/1990", "", null].map(birthdayMonthOf)).toEqual([
      3,
      12,
      11,
      null,
      null,
      null,
    ]);
  });
});

describe("segment rule compiled to SQL", () => {
  const fields = memberSqlFields({ now: "2025-06-01T00:00:00.000Z" });

  it("binds every value as a positional argument, in order", () => {
    const where = compileSegmentRuleToSql(
      rule({
        and: [
          { field: "stage", op: "in", value: ["dormant", "at_risk"] },
          { not: { field: "tags", op: "contains", value: "x'); DROP TABLE members; --" } },
          { field: "daysSinceLastPurchase", op: "gt", value: 90 },
          { field: "attributes.o'k", op: "between", value: [1, 5] },
          { field: "consent.email", op: "eq", value: true },
        ],
      }),
      fields,
    );
    expect(where.sql.split("?").length - 1).toBe(where.args.length);
    expect(where.args).toEqual(["dormant", "at_risk", "x'); DROP TABLE members; --", "2025-06-01T00:00:00.000Z", 90, 1, 5, 1]);
    expect(where.sql).not.toContain("DROP TABLE");
    expect(where.sql).toContain(`json_type(m.attributes, '$."o''k"')`);
  });

  it("keeps every leaf two-valued so NOT matches the JS evaluator", () => {
    const where = compileSegmentRuleToSql(rule({ not: { field: "churnProbability", op: "gt", value: 0.5 } }), fields);
    expect(where).toEqual({ sql: "(NOT COALESCE(m.churn_probability > ?, 0))", args: [0.5] });
    expect(
      compileSegmentRuleToSql(rule({ field: "tierRank", op: "exists", value: false }), memberSqlFields({ now: "x", alias: "mm" })).sql,
    ).toBe("((SELECT t.rank FROM tiers t WHERE t.id = mm.tier_id) IS NULL)");
  });
});
