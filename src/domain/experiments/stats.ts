// Frequentist A/B statistics over aggregate counts, so results can be computed straight from SQL
// aggregates. Distributions come from jstat; only the textbook test statistics are written here.
// Convention everywhere: A is the control, B the treatment, and differences are B − A.
// Degenerate inputs (empty groups, zero variance, rates of exactly 0 or 1 on both sides) yield
// null statistics and `significant: false` rather than NaN/Infinity.
import jStat from "jstat";

type ConfidenceInterval = [lower: number, upper: number];

const DEFAULT_CONFIDENCE = 0.95;
const MS_PER_DAY = 86_400_000;

function assertProbabilityOpen(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0 || value >= 1) throw new RangeError(`${name} must be in (0, 1), got ${value}`);
}

function assertNonNegativeFinite(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative finite number, got ${value}`);
}

function assertFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${value}`);
}

/** Belt and braces: nothing non-finite may leave this module. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function standardNormalQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

/** Two-sided p-value from the lower tail of |statistic|, which keeps precision for large statistics. */
function twoSidedNormalPValue(z: number): number {
  return Math.min(1, 2 * jStat.normal.cdf(-Math.abs(z), 0, 1));
}

function twoSidedStudentTPValue(t: number, df: number): number {
  return Math.min(1, 2 * jStat.studentt.cdf(-Math.abs(t), df));
}

// ---------------------------------------------------------------------------------------------
// Conversion rates: two-proportion z-test
// ---------------------------------------------------------------------------------------------

export interface TwoProportionInput {
  conversionsA: number;
  exposuresA: number;
  conversionsB: number;
  exposuresB: number;
  /** Confidence level of the interval; the test is significant when pValue < 1 − confidence. */
  confidence?: number;
}

export interface TwoProportionResult {
  rateA: number | null;
  rateB: number | null;
  /** rateB − rateA. */
  absoluteLift: number | null;
  /** (rateB − rateA) / rateA; null when rateA is 0. */
  relativeLift: number | null;
  /** Wald interval for rateB − rateA with the unpooled standard error (no equal-rate assumption). */
  ci: ConfidenceInterval | null;
  /** Test statistic with the pooled standard error (the null hypothesis says the rates are equal). */
  z: number | null;
  /** Two-sided. */
  pValue: number | null;
  significant: boolean;
}

export function twoProportionZTest({
  conversionsA,
  exposuresA,
  conversionsB,
  exposuresB,
  confidence = DEFAULT_CONFIDENCE,
}: TwoProportionInput): TwoProportionResult {
  assertNonNegativeFinite("conversionsA", conversionsA);
  assertNonNegativeFinite("exposuresA", exposuresA);
  assertNonNegativeFinite("conversionsB", conversionsB);
  assertNonNegativeFinite("exposuresB", exposuresB);
  if (conversionsA > exposuresA) throw new RangeError("conversionsA cannot exceed exposuresA");
  if (conversionsB > exposuresB) throw new RangeError("conversionsB cannot exceed exposuresB");
  assertProbabilityOpen("confidence", confidence);

  const rateA = exposuresA > 0 ? conversionsA / exposuresA : null;
  const rateB = exposuresB > 0 ? conversionsB / exposuresB : null;
  const noInference = { ci: null, z: null, pValue: null, significant: false } as const;
  if (rateA === null || rateB === null) {
    return { rateA, rateB, absoluteLift: null, relativeLift: null, ...noInference };
  }

  const absoluteLift = rateB - rateA;
  const relativeLift = rateA > 0 ? absoluteLift / rateA : null;

  const pooledRate = (conversionsA + conversionsB) / (exposuresA + exposuresB);
  const pooledStandardError = Math.sqrt(pooledRate * (1 - pooledRate) * (1 / exposuresA + 1 / exposuresB));
  const unpooledStandardError = Math.sqrt((rateA * (1 - rateA)) / exposuresA + (rateB * (1 - rateB)) / exposuresB);
  // Both rates at 0 or 1: no observed variability, the normal approximation says nothing.
  if (!(pooledStandardError > 0) || !(unpooledStandardError > 0)) {
    return { rateA, rateB, absoluteLift, relativeLift, ...noInference };
  }

  const z = absoluteLift / pooledStandardError;
  const pValue = twoSidedNormalPValue(z);
  const criticalZ = standardNormalQuantile(1 - (1 - confidence) / 2);
  const margin = criticalZ * unpooledStandardError;
  const finiteZ = finiteOrNull(z);
  const finitePValue = finiteOrNull(pValue);
  return {
    rateA,
    rateB,
    absoluteLift,
    relativeLift,
    ci: Number.isFinite(margin) ? [absoluteLift - margin, absoluteLift + margin] : null,
    z: finiteZ,
    pValue: finitePValue,
    significant: finitePValue !== null && finitePValue < 1 - confidence,
  };
}

// ---------------------------------------------------------------------------------------------
// Continuous metrics (e.g. revenue per member): Welch's unequal-variance t-test
// ---------------------------------------------------------------------------------------------

export interface SampleSums {
  /** Number of observations (e.g. exposed members, including those with zero revenue). */
  n: number;
  /** Σx */
  sum: number;
  /** Σx² */
  sumSquares: number;
}

export interface SampleSummary {
  n: number;
  /** null when n = 0. */
  mean: number | null;
  /** Unbiased sample variance (divides by n − 1); null when n < 2. */
  variance: number | null;
}

/**
 * Mean and sample variance from SQL-friendly aggregates (COUNT, SUM(x), SUM(x*x)).
 * The one-pass formula can cancel catastrophically and go slightly negative, so it is clamped at 0.
 */
export function meanAndVarianceFromSums({ n, sum, sumSquares }: SampleSums): SampleSummary {
  assertNonNegativeFinite("n", n);
  assertFinite("sum", sum);
  assertNonNegativeFinite("sumSquares", sumSquares);
  if (n === 0) return { n, mean: null, variance: null };
  const mean = sum / n;
  if (n < 2) return { n, mean, variance: null };
  const variance = Math.max(0, (sumSquares - sum * mean) / (n - 1));
  return { n, mean, variance };
}

export interface WelchInput {
  meanA: number;
  /** Unbiased sample variance of A. */
  varianceA: number;
  nA: number;
  meanB: number;
  varianceB: number;
  nB: number;
  confidence?: number;
}

export interface WelchResult {
  /** meanB − meanA; null when a group is empty. */
  difference: number | null;
  ci: ConfidenceInterval | null;
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom (not an integer in general). */
  df: number | null;
  /** Two-sided. */
  pValue: number | null;
  significant: boolean;
}

/**
 * t = (meanB − meanA) / √(varA/nA + varB/nB)
 * df = (varA/nA + varB/nB)² / ((varA/nA)²/(nA − 1) + (varB/nB)²/(nB − 1))
 */
export function welchTTest({ meanA, varianceA, nA, meanB, varianceB, nB, confidence = DEFAULT_CONFIDENCE }: WelchInput): WelchResult {
  assertFinite("meanA", meanA);
  assertFinite("meanB", meanB);
  assertNonNegativeFinite("varianceA", varianceA);
  assertNonNegativeFinite("varianceB", varianceB);
  assertNonNegativeFinite("nA", nA);
  assertNonNegativeFinite("nB", nB);
  assertProbabilityOpen("confidence", confidence);

  const noInference = { ci: null, t: null, df: null, pValue: null, significant: false } as const;
  if (nA === 0 || nB === 0) return { difference: null, ...noInference };
  const difference = meanB - meanA;
  // A sample variance needs two observations per group.
  if (nA < 2 || nB < 2) return { difference, ...noInference };

  const varianceOfMeanA = varianceA / nA;
  const varianceOfMeanB = varianceB / nB;
  const standardErrorSquared = varianceOfMeanA + varianceOfMeanB;
  // Zero variance in both groups: no noise estimate, so no test.
  if (!(standardErrorSquared > 0)) return { difference, ...noInference };

  const standardError = Math.sqrt(standardErrorSquared);
  const t = difference / standardError;
  const df =
    (standardErrorSquared * standardErrorSquared) /
    ((varianceOfMeanA * varianceOfMeanA) / (nA - 1) + (varianceOfMeanB * varianceOfMeanB) / (nB - 1));
  if (!Number.isFinite(t) || !Number.isFinite(df) || !(df > 0)) return { difference, ...noInference };

  const pValue = finiteOrNull(twoSidedStudentTPValue(t, df));
  const margin = jStat.studentt.inv(1 - (1 - confidence) / 2, df) * standardError;
  return {
    difference,
    ci: Number.isFinite(margin) ? [difference - margin, difference + margin] : null,
    t,
    df,
    pValue,
    significant: pValue !== null && pValue < 1 - confidence,
  };
}

/** Welch's test straight from per-group SQL aggregates; empty or single-member groups give null statistics. */
export function welchTTestFromSums({
  sumsA,
  sumsB,
  confidence = DEFAULT_CONFIDENCE,
}: {
  sumsA: SampleSums;
  sumsB: SampleSums;
  confidence?: number;
}): WelchResult {
  const a = meanAndVarianceFromSums(sumsA);
  const b = meanAndVarianceFromSums(sumsB);
  // The `?? 0` placeholders never reach inference: welchTTest returns a null difference for n = 0
  // and null statistics for n < 2, which is exactly when mean or variance is null.
  return welchTTest({
    meanA: a.mean ?? 0,
    varianceA: a.variance ?? 0,
    nA: a.n,
    meanB: b.mean ?? 0,
    varianceB: b.variance ?? 0,
    nB: b.n,
    confidence,
  });
}

// ---------------------------------------------------------------------------------------------
// Planning and stopping
// ---------------------------------------------------------------------------------------------

export interface SampleSizeInput {
  /** Control conversion rate, in [0, 1]. */
  baselineRate: number;
  /** Absolute change in rate to detect (0.02 means 10 % → 12 %); may be negative. */
  minimumDetectableEffect: number;
  /** Two-sided significance level. */
  alpha?: number;
  power?: number;
}

/**
 * Members needed per group for a two-sided two-proportion z-test (Fleiss, without continuity correction):
 *   n = [z(1−α/2)·√(2·p̄·(1−p̄)) + z(power)·√(p1(1−p1) + p2(1−p2))]² / (p2 − p1)²,  p̄ = (p1 + p2)/2
 * The first term uses the pooled variance because that is what the test assumes under the null.
 */
export function requiredSampleSizePerGroup({ baselineRate, minimumDetectableEffect, alpha = 0.05, power = 0.8 }: SampleSizeInput): number {
  if (!Number.isFinite(baselineRate) || baselineRate < 0 || baselineRate > 1) {
    throw new RangeError(`baselineRate must be in [0, 1], got ${baselineRate}`);
  }
  assertFinite("minimumDetectableEffect", minimumDetectableEffect);
  if (minimumDetectableEffect === 0) throw new RangeError("minimumDetectableEffect must be non-zero: no sample size detects a zero effect");
  const targetRate = baselineRate + minimumDetectableEffect;
  if (targetRate < 0 || targetRate > 1) {
    throw new RangeError(`baselineRate + minimumDetectableEffect must be in [0, 1], got ${targetRate}`);
  }
  assertProbabilityOpen("alpha", alpha);
  assertProbabilityOpen("power", power);

  const averageRate = (baselineRate + targetRate) / 2;
  const zAlpha = standardNormalQuantile(1 - alpha / 2);
  const zPower = standardNormalQuantile(power);
  const root =
    zAlpha * Math.sqrt(2 * averageRate * (1 - averageRate)) +
    zPower * Math.sqrt(baselineRate * (1 - baselineRate) + targetRate * (1 - targetRate));
  return Math.ceil((root * root) / (minimumDetectableEffect * minimumDetectableEffect));
}

type Timestamp = Date | number | string;

export interface StopRuleInput {
  startedAt: Timestamp;
  now: Timestamp;
  maxDurationDays: number;
  /** p-value of the primary metric; null when it could not be computed. */
  pValue: number | null;
  alpha?: number;
  /** Exposures of each group (or the smallest group's count); the smallest one is what matters. */
  exposuresPerGroup: number | readonly number[];
  /** From requiredSampleSizePerGroup; null means unknown, so never stop early on significance. */
  requiredPerGroup: number | null;
}

export interface StopDecision {
  stop: boolean;
  reason: "significant" | "max_duration" | null;
}

function toEpochMs(name: string, value: Timestamp): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : value;
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a valid timestamp: ${String(value)}`);
  return ms;
}

/**
 * Stop early only when the result is significant AND every group has reached the planned sample
 * size: checking p-values repeatedly before then ("peeking") inflates the false-positive rate.
 * The max duration always stops the experiment, significant or not.
 */
export function evaluateStopRule({
  startedAt,
  now,
  maxDurationDays,
  pValue,
  alpha = 0.05,
  exposuresPerGroup,
  requiredPerGroup,
}: StopRuleInput): StopDecision {
  const startedAtMs = toEpochMs("startedAt", startedAt);
  const nowMs = toEpochMs("now", now);
  if (!Number.isFinite(maxDurationDays) || maxDurationDays <= 0) {
    throw new RangeError(`maxDurationDays must be positive, got ${maxDurationDays}`);
  }
  assertProbabilityOpen("alpha", alpha);
  const groupExposures = typeof exposuresPerGroup === "number" ? [exposuresPerGroup] : [...exposuresPerGroup];
  if (groupExposures.length === 0) throw new RangeError("exposuresPerGroup must list at least one group");
  for (const [i, exposures] of groupExposures.entries()) assertNonNegativeFinite(`exposuresPerGroup[${i}]`, exposures);

  const smallestGroup = Math.min(...groupExposures);
  const sampleSizeReached = requiredPerGroup !== null && Number.isFinite(requiredPerGroup) && smallestGroup >= requiredPerGroup;
  const isSignificant = pValue !== null && Number.isFinite(pValue) && pValue < alpha;
  if (sampleSizeReached && isSignificant) return { stop: true, reason: "significant" };

  if (nowMs - startedAtMs >= maxDurationDays * MS_PER_DAY) return { stop: true, reason: "max_duration" };
  return { stop: false, reason: null };
}

export interface VariantResult {
  variantKey: string;
  /** The variant compared against the control (control as A, this variant as B). */
  result: TwoProportionResult | WelchResult;
}

export interface WinnerDecision {
  /** The winning variant, the control, or null when nothing is conclusive. */
  winnerKey: string | null;
  reason: "variant_beats_control" | "control_beats_all_variants" | "no_significant_difference";
}

/**
 * Higher is better. Winner = the significantly-better variant with the largest effect; the
 * control wins only if it is significantly better than every variant. With several variants,
 * the caller should tighten confidence (e.g. Bonferroni) before computing `results`.
 */
export function pickWinner({ controlKey, results }: { controlKey: string; results: readonly VariantResult[] }): WinnerDecision {
  const effectOf = (r: VariantResult): number | null => ("absoluteLift" in r.result ? r.result.absoluteLift : r.result.difference);

  let best: { key: string; effect: number } | null = null;
  for (const r of results) {
    const effect = effectOf(r);
    if (r.result.significant && effect !== null && effect > 0 && (best === null || effect > best.effect)) {
      best = { key: r.variantKey, effect };
    }
  }
  if (best) return { winnerKey: best.key, reason: "variant_beats_control" };

  const controlBeatsAll =
    results.length > 0 &&
    results.every((r) => {
      const effect = effectOf(r);
      return r.result.significant && effect !== null && effect < 0;
    });
  if (controlBeatsAll) return { winnerKey: controlKey, reason: "control_beats_all_variants" };
  return { winnerKey: null, reason: "no_significant_difference" };
}
