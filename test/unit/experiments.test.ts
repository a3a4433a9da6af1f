import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignVariant,
  evaluateStopRule,
  meanAndVarianceFromSums,
  murmur3Hash32,
  pickWinner,
  requiredSampleSizePerGroup,
  type TwoProportionResult,
  twoProportionZTest,
  type VariantWeight,
  welchTTest,
  welchTTestFromSums,
} from "../../src/domain/experiments";

/** Every number anywhere in `value` is finite (null is fine, NaN/Infinity are not). */
function expectNoNonFiniteNumbers(value: unknown): void {
  if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
  else if (Array.isArray(value)) value.forEach(expectNoNonFiniteNumbers);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(expectNoNonFiniteNumbers);
}

function countAssignments(variants: VariantWeight[], holdoutPct: number, members = 10_000, experimentId = "exp-spring-promo") {
  const counts: Record<string, number> = { holdout: 0 };
  for (const { key } of variants) counts[key] = 0;
  for (let i = 0; i < members; i++) {
    const assignment = assignVariant({ experimentId, memberId: `member-${i}`, variants, holdoutPct });
    counts[assignment.variantKey ?? "holdout"]++;
  }
  return counts;
}

describe("murmur3Hash32", () => {
  it("matches the published MurmurHash3_x86_32 test vectors", () => {
    expect(murmur3Hash32("")).toBe(0);
    expect(murmur3Hash32("", 1)).toBe(0x514e28b7);
    expect(murmur3Hash32("", 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3Hash32("hello")).toBe(0x248bfa47);
    expect(murmur3Hash32("Hello, world!", 1234)).toBe(0xfaf6cdb3);
    expect(murmur3Hash32("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
  });
});

describe("assignVariant", () => {
  const threeWay: VariantWeight[] = [
    { key: "control", weight: 50 },
    { key: "double-points", weight: 30 },
    { key: "free-shipping", weight: 20 },
  ];

  it("is deterministic: the same member gets the same group on every call", () => {
    for (let i = 0; i < 200; i++) {
      const input = { experimentId: "exp-1", memberId: `m-${i}`, variants: threeWay, holdoutPct: 10 };
      expect(assignVariant(input)).toEqual(assignVariant(input));
    }
  });

  it("splits 10,000 members within ±1.5 percentage points of the weights, after a 10 % holdout", () => {
    const counts = countAssignments(threeWay, 10);
    expect(Math.abs(counts.holdout / 10_000 - 0.1)).toBeLessThanOrEqual(0.015);
    const inExperiment = 10_000 - counts.holdout;
    expect(Math.abs(counts.control / inExperiment - 0.5)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(counts["double-points"] / inExperiment - 0.3)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(counts["free-shipping"] / inExperiment - 0.2)).toBeLessThanOrEqual(0.015);
  });

  it("respects a larger holdout share and uneven weights", () => {
    const counts = countAssignments(
      [
        { key: "a", weight: 1 },
        { key: "b", weight: 3 },
      ],
      25,
      10_000,
      "exp-other",
    );
    expect(Math.abs(counts.holdout / 10_000 - 0.25)).toBeLessThanOrEqual(0.015);
    const inExperiment = 10_000 - counts.holdout;
    expect(Math.abs(counts.b / inExperiment - 0.75)).toBeLessThanOrEqual(0.015);
  });

  it("puts nobody in holdout at 0 % and everybody at 100 %", () => {
    expect(countAssignments(threeWay, 0, 2_000).holdout).toBe(0);
    expect(countAssignments(threeWay, 100, 2_000).holdout).toBe(2_000);
    expect(assignVariant({ experimentId: "e", memberId: "m", variants: threeWay, holdoutPct: 100 })).toEqual({
      group: "holdout",
      variantKey: null,
    });
  });

  it("assigns independently per experiment", () => {
    const variants = [
      { key: "a", weight: 1 },
      { key: "b", weight: 1 },
    ];
    let same = 0;
    for (let i = 0; i < 2_000; i++) {
      const one = assignVariant({ experimentId: "exp-x", memberId: `m-${i}`, variants, holdoutPct: 0 });
      const two = assignVariant({ experimentId: "exp-y", memberId: `m-${i}`, variants, holdoutPct: 0 });
      if (one.variantKey === two.variantKey) same++;
    }
    // Independent 50/50 coin flips agree about half the time.
    expect(Math.abs(same / 2_000 - 0.5)).toBeLessThan(0.05);
  });

  it("does not depend on the order of the variants array", () => {
    const reversed = [...threeWay].reverse();
    for (let i = 0; i < 500; i++) {
      const memberId = `m-${i}`;
      expect(assignVariant({ experimentId: "e", memberId, variants: reversed, holdoutPct: 5 })).toEqual(
        assignVariant({ experimentId: "e", memberId, variants: threeWay, holdoutPct: 5 }),
      );
    }
  });

  it("is stable when an unrelated variant changes: members only move into or out of the changed variant", () => {
    const reweighted = threeWay.map((v) => (v.key === "free-shipping" ? { ...v, weight: 60 } : v));
    const withNewVariant = [...threeWay, { key: "birthday-bonus", weight: 25 }];
    let movedToChanged = 0;
    for (let i = 0; i < 3_000; i++) {
      const memberId = `m-${i}`;
      const before = assignVariant({ experimentId: "e", memberId, variants: threeWay, holdoutPct: 0 }).variantKey;
      const afterReweight = assignVariant({ experimentId: "e", memberId, variants: reweighted, holdoutPct: 0 }).variantKey;
      const afterAdding = assignVariant({ experimentId: "e", memberId, variants: withNewVariant, holdoutPct: 0 }).variantKey;
      if (afterReweight !== before) {
        expect(afterReweight).toBe("free-shipping");
        movedToChanged++;
      }
      if (afterAdding !== before) expect(afterAdding).toBe("birthday-bonus");
    }
    expect(movedToChanged).toBeGreaterThan(0);
  });

  it("changing the holdout only moves members between the holdout and their own variant", () => {
    for (let i = 0; i < 2_000; i++) {
      const memberId = `m-${i}`;
      const small = assignVariant({ experimentId: "e", memberId, variants: threeWay, holdoutPct: 5 });
      const large = assignVariant({ experimentId: "e", memberId, variants: threeWay, holdoutPct: 20 });
      const none = assignVariant({ experimentId: "e", memberId, variants: threeWay, holdoutPct: 0 });
      if (small.group === "holdout") expect(large.group).toBe("holdout");
      if (large.group === "variant") expect(large.variantKey).toBe(none.variantKey);
    }
  });

  it("rejects invalid configurations", () => {
    const base = { experimentId: "e", memberId: "m", holdoutPct: 0 };
    expect(() => assignVariant({ ...base, variants: [] })).toThrow(RangeError);
    expect(() => assignVariant({ ...base, variants: [{ key: "a", weight: 0 }] })).toThrow(/positive weight/);
    expect(() => assignVariant({ ...base, variants: [{ key: "a", weight: -1 }] })).toThrow(/positive weight/);
    expect(() => assignVariant({ ...base, variants: [{ key: "a", weight: Number.NaN }] })).toThrow(/positive weight/);
    expect(() =>
      assignVariant({
        ...base,
        variants: [
          { key: "a", weight: 1 },
          { key: "a", weight: 1 },
        ],
      }),
    ).toThrow(/duplicate/);
    expect(() => assignVariant({ ...base, holdoutPct: 101, variants: [{ key: "a", weight: 1 }] })).toThrow(/holdoutPct/);
    expect(() => assignVariant({ ...base, holdoutPct: -1, variants: [{ key: "a", weight: 1 }] })).toThrow(/holdoutPct/);
    expect(() => assignVariant({ ...base, memberId: "", variants: [{ key: "a", weight: 1 }] })).toThrow(/memberId/);
  });
});

describe("twoProportionZTest", () => {
  it("matches the textbook example 200/1000 vs 250/1000", () => {
    // pA = 0.20, pB = 0.25, difference = 0.05
    // pooled p = 450/2000 = 0.225; SE_pooled = √(0.225·0.775·(1/1000 + 1/1000)) = √0.00034875 = 0.0186748
    // z = 0.05 / 0.0186748 = 2.6774;  p = 2·(1 − Φ(2.6774)) = 0.00742
    // SE_unpooled = √(0.2·0.8/1000 + 0.25·0.75/1000) = √0.0003475 = 0.0186414
    // 95 % CI = 0.05 ± 1.959964·0.0186414 = 0.05 ± 0.036536 = [0.013464, 0.086536]
    const result = twoProportionZTest({ conversionsA: 200, exposuresA: 1000, conversionsB: 250, exposuresB: 1000 });
    expect(result.rateA).toBeCloseTo(0.2, 12);
    expect(result.rateB).toBeCloseTo(0.25, 12);
    expect(result.absoluteLift).toBeCloseTo(0.05, 12);
    expect(result.relativeLift).toBeCloseTo(0.25, 12);
    expect(result.z).toBeCloseTo(2.6774, 4);
    expect(result.pValue).toBeCloseTo(0.00742, 5);
    expect(result.ci![0]).toBeCloseTo(0.013464, 5);
    expect(result.ci![1]).toBeCloseTo(0.086536, 5);
    expect(result.significant).toBe(true);
  });

  it("is symmetric: swapping the groups flips the signs but keeps the p-value", () => {
    const forward = twoProportionZTest({ conversionsA: 200, exposuresA: 1000, conversionsB: 250, exposuresB: 1000 });
    const backward = twoProportionZTest({ conversionsA: 250, exposuresA: 1000, conversionsB: 200, exposuresB: 1000 });
    expect(backward.z).toBeCloseTo(-forward.z!, 12);
    expect(backward.pValue).toBeCloseTo(forward.pValue!, 12);
  });

  it("is not significant for a small difference: 100/1000 vs 110/1000", () => {
    // pooled p = 0.105; SE = √(0.105·0.895·0.002) = 0.013709; z = 0.01/0.013709 = 0.7294; p = 0.4657
    const result = twoProportionZTest({ conversionsA: 100, exposuresA: 1000, conversionsB: 110, exposuresB: 1000 });
    expect(result.z).toBeCloseTo(0.7294, 3);
    expect(result.pValue).toBeCloseTo(0.4657, 3);
    expect(result.significant).toBe(false);
    expect(result.ci![0]).toBeLessThan(0);
  });

  it("uses the requested confidence for both the interval and significance", () => {
    // z = 2.6774 gives p = 0.0074, which is not below 1 − 0.995 = 0.005.
    const result = twoProportionZTest({ conversionsA: 200, exposuresA: 1000, conversionsB: 250, exposuresB: 1000, confidence: 0.995 });
    expect(result.significant).toBe(false);
    expect(result.ci![0]).toBeLessThan(0);
  });

  it("returns null statistics for degenerate inputs", () => {
    const noExposures = twoProportionZTest({ conversionsA: 0, exposuresA: 0, conversionsB: 5, exposuresB: 100 });
    expect(noExposures).toEqual({
      rateA: null,
      rateB: 0.05,
      absoluteLift: null,
      relativeLift: null,
      ci: null,
      z: null,
      pValue: null,
      significant: false,
    });

    const bothZero = twoProportionZTest({ conversionsA: 0, exposuresA: 500, conversionsB: 0, exposuresB: 500 });
    expect(bothZero).toMatchObject({ rateA: 0, rateB: 0, absoluteLift: 0, relativeLift: null, z: null, pValue: null, significant: false });

    const bothOne = twoProportionZTest({ conversionsA: 500, exposuresA: 500, conversionsB: 300, exposuresB: 300 });
    expect(bothOne).toMatchObject({ rateA: 1, rateB: 1, relativeLift: 0, ci: null, z: null, pValue: null, significant: false });

    // 0 % vs 100 %: no variability inside either group, so the normal approximation is meaningless.
    const zeroVersusOne = twoProportionZTest({ conversionsA: 0, exposuresA: 100, conversionsB: 100, exposuresB: 100 });
    expect(zeroVersusOne).toMatchObject({ absoluteLift: 1, ci: null, z: null, pValue: null, significant: false });

    // A zero-rate control still gives a test, only the relative lift is undefined.
    const zeroControl = twoProportionZTest({ conversionsA: 0, exposuresA: 1000, conversionsB: 20, exposuresB: 1000 });
    expect(zeroControl.relativeLift).toBeNull();
    expect(zeroControl.z).not.toBeNull();

    for (const result of [noExposures, bothZero, bothOne, zeroVersusOne, zeroControl]) expectNoNonFiniteNumbers(result);
  });

  it("rejects impossible counts", () => {
    expect(() => twoProportionZTest({ conversionsA: 11, exposuresA: 10, conversionsB: 0, exposuresB: 10 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ conversionsA: -1, exposuresA: 10, conversionsB: 0, exposuresB: 10 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ conversionsA: 1, exposuresA: 10, conversionsB: 0, exposuresB: 10, confidence: 1 })).toThrow(
      RangeError,
    );
  });

  it("never leaks NaN or Infinity for any valid counts", () => {
    const group = fc.nat({ max: 1_000_000 }).chain((exposures) => fc.tuple(fc.nat({ max: exposures }), fc.constant(exposures)));
    fc.assert(
      fc.property(group, group, ([conversionsA, exposuresA], [conversionsB, exposuresB]) => {
        const result = twoProportionZTest({ conversionsA, exposuresA, conversionsB, exposuresB });
        expectNoNonFiniteNumbers(result);
        if (result.pValue === null) expect(result.significant).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("welchTTest", () => {
  // Published example (R's t.test(ts1, ts2), Welch by default):
  //   ts1 = 11, 9, 10, 11, 10, 12, 9, 11, 12, 9      n = 10, Σx = 104, Σx² = 1094
  //   ts2 = 11, 13, 10, 13, 12, 9, 11, 12, 12, 11    n = 10, Σx = 114, Σx² = 1314
  //   R prints: t = -1.8325, df = 17.9, p-value = 0.08356, 95 % CI (ts1 − ts2) = [-2.1469104, 0.1469104]
  // By hand: mean1 = 10.4, s1² = (1094 − 104²/10)/9 = 12.4/9 = 1.377778
  //          mean2 = 11.4, s2² = (1314 − 114²/10)/9 = 14.4/9 = 1.600000
  //   SE² = s1²/n1 + s2²/n2 = 0.1377778 + 0.16 = 0.2977778, SE = 0.5456902
  //   t  = (mean2 − mean1)/SE = 1/0.5456902 = 1.832542  (we report B − A, so the sign is flipped from R)
  //   df = SE⁴ / ((s1²/n1)²/(n1−1) + (s2²/n2)²/(n2−1)) = 0.0886716 / ((0.0189827 + 0.0256)/9) = 17.9003
  const ts1 = { n: 10, sum: 104, sumSquares: 1094 };
  const ts2 = { n: 10, sum: 114, sumSquares: 1314 };

  it("derives mean and sample variance from SQL-style sums", () => {
    const summary = meanAndVarianceFromSums(ts1);
    expect(summary.n).toBe(10);
    expect(summary.mean).toBeCloseTo(10.4, 12);
    expect(summary.variance).toBeCloseTo(12.4 / 9, 12);
    expect(meanAndVarianceFromSums({ n: 0, sum: 0, sumSquares: 0 })).toEqual({ n: 0, mean: null, variance: null });
    expect(meanAndVarianceFromSums({ n: 1, sum: 7, sumSquares: 49 })).toEqual({ n: 1, mean: 7, variance: null });
    // Identical values: rounding in Σx² − (Σx)²/n must not produce a negative variance.
    const constant = meanAndVarianceFromSums({ n: 3, sum: 0.3, sumSquares: 0.1 * 0.1 * 3 });
    expect(constant.variance).toBeGreaterThanOrEqual(0);
    expect(constant.variance).toBeCloseTo(0, 12);
  });

  it("matches the published Welch example", () => {
    const a = meanAndVarianceFromSums(ts1);
    const b = meanAndVarianceFromSums(ts2);
    const result = welchTTest({ meanA: a.mean!, varianceA: a.variance!, nA: a.n, meanB: b.mean!, varianceB: b.variance!, nB: b.n });
    expect(result.difference).toBeCloseTo(1, 12);
    expect(result.t).toBeCloseTo(1.832542, 5);
    expect(result.df).toBeCloseTo(17.9003, 3);
    expect(result.pValue).toBeCloseTo(0.08356, 4);
    expect(result.ci![0]).toBeCloseTo(-0.1469104, 5);
    expect(result.ci![1]).toBeCloseTo(2.1469104, 5);
    expect(result.significant).toBe(false);
    expect(welchTTestFromSums({ sumsA: ts1, sumsB: ts2 })).toEqual(result);
  });

  it("matches a textbook summary-statistics example", () => {
    // n1 = n2 = 20, mean1 = 100, s1 = 15, mean2 = 95, s2 = 20 (A = group 1, B = group 2):
    //   SE² = 225/20 + 400/20 = 31.25, t = −5/√31.25 = −0.8944
    //   df = 31.25² / ((11.25² + 20²)/19) = 976.5625 / 27.7138 = 35.24
    const result = welchTTest({ meanA: 100, varianceA: 225, nA: 20, meanB: 95, varianceB: 400, nB: 20 });
    expect(result.t).toBeCloseTo(-0.8944, 4);
    expect(result.df).toBeCloseTo(35.24, 2);
    expect(result.significant).toBe(false);
  });

  it("returns null statistics for degenerate inputs", () => {
    const empty = welchTTestFromSums({ sumsA: { n: 0, sum: 0, sumSquares: 0 }, sumsB: ts2 });
    expect(empty).toEqual({ difference: null, ci: null, t: null, df: null, pValue: null, significant: false });

    const single = welchTTestFromSums({ sumsA: { n: 1, sum: 5, sumSquares: 25 }, sumsB: ts2 });
    expect(single).toEqual({ difference: 6.4, ci: null, t: null, df: null, pValue: null, significant: false });

    const zeroVariance = welchTTest({ meanA: 3, varianceA: 0, nA: 50, meanB: 4, varianceB: 0, nB: 50 });
    expect(zeroVariance).toEqual({ difference: 1, ci: null, t: null, df: null, pValue: null, significant: false });

    // One constant group is fine: df collapses to the other group's n − 1.
    const oneConstant = welchTTest({ meanA: 0, varianceA: 0, nA: 30, meanB: 1, varianceB: 4, nB: 25 });
    expect(oneConstant.df).toBeCloseTo(24, 10);
    expect(oneConstant.t).toBeCloseTo(1 / Math.sqrt(4 / 25), 10);

    for (const result of [empty, single, zeroVariance, oneConstant]) expectNoNonFiniteNumbers(result);
  });

  it("never leaks NaN or Infinity for valid summaries", () => {
    const summary = fc.record({
      mean: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      variance: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e9, noNaN: true })),
      n: fc.nat({ max: 1_000_000 }),
    });
    fc.assert(
      fc.property(summary, summary, (a, b) => {
        const result = welchTTest({ meanA: a.mean, varianceA: a.variance, nA: a.n, meanB: b.mean, varianceB: b.variance, nB: b.n });
        expectNoNonFiniteNumbers(result);
        if (result.pValue === null) expect(result.significant).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("requiredSampleSizePerGroup", () => {
  it("matches the hand calculation for p = 0.10, MDE = 0.02, α = 0.05, power = 0.8", () => {
    // p1 = 0.10, p2 = 0.12, p̄ = 0.11; z(0.975) = 1.959964, z(0.8) = 0.841621
    // z(0.975)·√(2·0.11·0.89) = 1.959964·0.442493 = 0.867270
    // z(0.8)·√(0.10·0.90 + 0.12·0.88) = 0.841621·0.442267 = 0.372221
    // n = (0.867270 + 0.372221)² / 0.02² = 1.536339 / 0.0004 = 3840.85 → 3841
    expect(requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.02 })).toBe(3841);
  });

  it("is the same for a decrease of the same size towards the baseline", () => {
    // p1 = 0.12, p2 = 0.10 uses the same three rates as above.
    expect(requiredSampleSizePerGroup({ baselineRate: 0.12, minimumDetectableEffect: -0.02 })).toBe(3841);
  });

  it("needs more members for stricter α, more power or a smaller effect", () => {
    const base = requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.02 });
    expect(requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.02, alpha: 0.01 })).toBeGreaterThan(base);
    expect(requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.02, power: 0.9 })).toBeGreaterThan(base);
    expect(requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.01 })).toBeGreaterThan(base);
  });

  it("rejects inputs with no finite answer", () => {
    expect(() => requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0 })).toThrow(RangeError);
    expect(() => requiredSampleSizePerGroup({ baselineRate: 0.95, minimumDetectableEffect: 0.1 })).toThrow(RangeError);
    expect(() => requiredSampleSizePerGroup({ baselineRate: -0.1, minimumDetectableEffect: 0.1 })).toThrow(RangeError);
    expect(() => requiredSampleSizePerGroup({ baselineRate: 0.1, minimumDetectableEffect: 0.02, power: 1 })).toThrow(RangeError);
  });
});

describe("evaluateStopRule", () => {
  const startedAt = "2026-03-01T00:00:00Z";
  const base = { startedAt, maxDurationDays: 28, alpha: 0.05, requiredPerGroup: 3841 };

  it("does not stop on a significant result before the required sample size (no peeking)", () => {
    expect(evaluateStopRule({ ...base, now: "2026-03-05T00:00:00Z", pValue: 0.001, exposuresPerGroup: [2000, 2100] })).toEqual({
      stop: false,
      reason: null,
    });
  });

  it("stops on significance once every group reached the required sample size", () => {
    expect(evaluateStopRule({ ...base, now: "2026-03-10T00:00:00Z", pValue: 0.01, exposuresPerGroup: [3841, 3900] })).toEqual({
      stop: true,
      reason: "significant",
    });
  });

  it("waits for the smallest group", () => {
    expect(evaluateStopRule({ ...base, now: "2026-03-10T00:00:00Z", pValue: 0.01, exposuresPerGroup: [5000, 3840] }).stop).toBe(false);
  });

  it("keeps running when the sample is large enough but the result is not significant", () => {
    expect(evaluateStopRule({ ...base, now: "2026-03-10T00:00:00Z", pValue: 0.2, exposuresPerGroup: 5000 })).toEqual({
      stop: false,
      reason: null,
    });
    expect(evaluateStopRule({ ...base, now: "2026-03-10T00:00:00Z", pValue: null, exposuresPerGroup: 5000 })).toEqual({
      stop: false,
      reason: null,
    });
  });

  it("always stops at the maximum duration", () => {
    const atLimit = evaluateStopRule({ ...base, now: "2026-03-29T00:00:00Z", pValue: 0.5, exposuresPerGroup: [100, 100] });
    expect(atLimit).toEqual({ stop: true, reason: "max_duration" });
    const justBefore = evaluateStopRule({
      ...base,
      now: Date.parse("2026-03-29T00:00:00Z") - 1,
      pValue: 0.5,
      exposuresPerGroup: [100, 100],
    });
    expect(justBefore).toEqual({ stop: false, reason: null });
    const withDates = evaluateStopRule({
      ...base,
      startedAt: new Date(startedAt),
      now: new Date("2026-06-01T00:00:00Z"),
      pValue: null,
      exposuresPerGroup: [0, 0],
      requiredPerGroup: null,
    });
    expect(withDates).toEqual({ stop: true, reason: "max_duration" });
  });

  it("never stops early on significance when the required sample size is unknown", () => {
    expect(
      evaluateStopRule({ ...base, now: "2026-03-10T00:00:00Z", pValue: 0.0001, exposuresPerGroup: 1e6, requiredPerGroup: null }),
    ).toEqual({ stop: false, reason: null });
  });

  it("rejects invalid timestamps and durations", () => {
    const valid = { ...base, now: "2026-03-10T00:00:00Z", pValue: 0.2, exposuresPerGroup: 10 };
    expect(() => evaluateStopRule({ ...valid, now: "not a date" })).toThrow(RangeError);
    expect(() => evaluateStopRule({ ...valid, maxDurationDays: 0 })).toThrow(RangeError);
    expect(() => evaluateStopRule({ ...valid, exposuresPerGroup: [] })).toThrow(RangeError);
  });
});

describe("pickWinner", () => {
  const result = (absoluteLift: number | null, significant: boolean): TwoProportionResult => ({
    rateA: 0.1,
    rateB: absoluteLift === null ? null : 0.1 + absoluteLift,
    absoluteLift,
    relativeLift: null,
    ci: null,
    z: null,
    pValue: significant ? 0.001 : 0.5,
    significant,
  });

  it("picks the significantly better variant with the largest lift", () => {
    expect(
      pickWinner({
        controlKey: "control",
        results: [
          { variantKey: "b", result: result(0.02, true) },
          { variantKey: "c", result: result(0.03, true) },
          { variantKey: "d", result: result(0.05, false) },
        ],
      }),
    ).toEqual({ winnerKey: "c", reason: "variant_beats_control" });
  });

  it("picks the control only when it is significantly better than every variant", () => {
    expect(
      pickWinner({
        controlKey: "control",
        results: [
          { variantKey: "b", result: result(-0.02, true) },
          { variantKey: "c", result: result(-0.03, true) },
        ],
      }),
    ).toEqual({ winnerKey: "control", reason: "control_beats_all_variants" });
    expect(
      pickWinner({
        controlKey: "control",
        results: [
          { variantKey: "b", result: result(-0.02, true) },
          { variantKey: "c", result: result(0.01, false) },
        ],
      }),
    ).toEqual({ winnerKey: null, reason: "no_significant_difference" });
  });

  it("has no winner without significant results, including degenerate ones", () => {
    expect(pickWinner({ controlKey: "control", results: [] })).toEqual({ winnerKey: null, reason: "no_significant_difference" });
    expect(pickWinner({ controlKey: "control", results: [{ variantKey: "b", result: result(null, false) }] })).toEqual({
      winnerKey: null,
      reason: "no_significant_difference",
    });
  });

  it("works with Welch results for revenue metrics", () => {
    const revenue = welchTTest({ meanA: 10, varianceA: 25, nA: 5000, meanB: 11, varianceB: 30, nB: 5000 });
    expect(revenue.significant).toBe(true);
    expect(pickWinner({ controlKey: "control", results: [{ variantKey: "b", result: revenue }] })).toEqual({
      winnerKey: "b",
      reason: "variant_beats_control",
    });
  });
});
