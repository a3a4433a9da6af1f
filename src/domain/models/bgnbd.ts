/**
 * BG/NBD repeat-purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
 *
 * While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase they
 * drop out with probability p ~ Beta(a, b). Per customer: x = repeat purchases, t_x = time of the
 * last purchase, T = time since the first purchase, all measured from the first purchase.
 *
 * Unit-agnostic: t_x, T and every horizon t must share one time unit; α comes out in that unit
 * (α in days ≈ 7 × α in weeks); r, a, b are unit-free.
 */
import betaln from "@stdlib/math-base-special-betaln";
import gammaln from "@stdlib/math-base-special-gammaln";
import { minimize } from "./fit";

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface PurchaseSummary {
  /** Repeat purchases (total purchases − 1), a non-negative integer. */
  x: number;
  /** Time of the last purchase, since the first (0 when x = 0). */
  t_x: number;
  /** Time since the first purchase ("age" at the end of the observation window). */
  T: number;
}

export interface BgNbdFit extends BgNbdParams {
  /** Full log-likelihood of the data at the fitted parameters (without the penalty). */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

export interface BgNbdFitOptions {
  /** lifetimes-style penalty λ·Σθ² on the parameters, added to the mean negative log-likelihood. Default 0. */
  l2Penalty?: number;
  /** Starting point (defaults are derived from the data's purchase rate). */
  initial?: BgNbdParams;
  /** Simplex iterations per optimiser run (default 2000). */
  maxIterations?: number;
}

/** Rows collapsed by identical (x, t_x, T), with per-distinct-x indices so gamma terms are computed once per x. */
interface CompiledRows {
  distinctX: Float64Array;
  xIndex: Uint32Array;
  tx: Float64Array;
  age: Float64Array;
  weight: Float64Array;
  totalWeight: number;
}

export function bgnbdLogLikelihood(params: BgNbdParams, rows: readonly PurchaseSummary[]): number {
  return compiledLogLikelihood(params, compileRows(rows));
}

export function fitBgNbd(rows: readonly PurchaseSummary[], options: BgNbdFitOptions = {}): BgNbdFit {
  const data = compileRows(rows);
  if (!data.distinctX.some((x) => x > 0)) {
    throw new RangeError("BG/NBD needs at least one customer with a repeat purchase");
  }
  const penalty = options.l2Penalty ?? 0;
  const initial = options.initial ?? startingValues(rows);
  const toParams = (theta: number[]): BgNbdParams => ({
    r: Math.exp(theta[0]),
    alpha: Math.exp(theta[1]),
    a: Math.exp(theta[2]),
    b: Math.exp(theta[3]),
  });
  // Optimise over log-parameters so every trial point is positive; the mean (not total)
  // log-likelihood keeps tolerances independent of the number of customers.
  const objective = (theta: number[]): number => {
    if (theta.some((v) => Math.abs(v) > 40)) return Number.POSITIVE_INFINITY;
    const params = toParams(theta);
    const ridge = penalty * (params.r ** 2 + params.alpha ** 2 + params.a ** 2 + params.b ** 2);
    return -compiledLogLikelihood(params, data) / data.totalWeight + ridge;
  };
  const theta0 = [Math.log(initial.r), Math.log(initial.alpha), Math.log(initial.a), Math.log(initial.b)];
  const result = minimize(objective, theta0, { maxIterations: options.maxIterations });
  const params = toParams(result.x);
  return {
    ...params,
    logLikelihood: compiledLogLikelihood(params, data),
    iterations: result.iterations,
    converged: result.converged,
  };
}

/** P(customer still alive at T | x, t_x, T). Exactly 1 for x = 0: nobody drops out before a repeat purchase. */
export function probabilityAlive(params: BgNbdParams, x: number, t_x: number, T: number): number {
  checkCustomer(x, t_x, T);
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  // P = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)); the odds are built in log-space to survive x ≈ 500.
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + Math.min(t_x, T)));
  return 1 / (1 + Math.exp(logOdds));
}

/** Unconditional E[X(t)]: expected repeat purchases in (0, t] for a newly acquired customer. */
export function expectedPurchases(params: BgNbdParams, t: number): number {
  checkHorizon(t);
  return expectedPurchasesWhileAlive(params, t, 0, 0);
}

/** E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] for a customer with this history (FHL eq. 10). */
export function conditionalExpectedPurchases(params: BgNbdParams, t: number, x: number, t_x: number, T: number): number {
  checkHorizon(t);
  return expectedPurchasesWhileAlive(params, t, x, T) * probabilityAlive(params, x, t_x, T);
}

/**
 * E[Y(t) | alive at T, x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z)],
 * z = t/(α+T+t). Evaluated stably:
 *  - Euler's transformation ₂F₁(A,B;C;z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z) turns the prefactor
 *    (1−z)^(r+x) ₂F₁(r+x, b+x; C; z) into (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; C; z). The new series has small
 *    numerator parameters and denominator C = a+b+x−1, so it converges fast even for x = 500,
 *    where the original terms would overflow before cancelling.
 *  - Every term n ≥ 1 of ₂F₁(·, a−1; ·) carries a factor (a−1), so with K = C·Σ_{n≥1}(…)/(a−1) the result is
 *    C·(1 − (1−z)^(a−1))/(a−1) − (1−z)^(a−1)·K, where the first part uses expm1 and has the a → 1 limit.
 */
/**
 * The series' terms grow like (a·z)ⁿ/n! before shrinking and overflow past a·z ≈ 700; from
 * here on use the point-mass limit instead (relative error ~1/a, under 0.4 % at a·z = 300).
 */
const SERIES_OVERFLOW_AZ = 300;

function expectedPurchasesWhileAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  const { r, alpha, a, b } = params;
  if (t === 0) return 0;
  // Large a (and b) means "everyone drops out with the same probability p" (the beta
  // prior is a point mass); the series would need ~a·z terms. Its limit is closed-form:
  // E = (1/p)·(1 − ((α+T)/(α+T+p·t))^(r+x)), with p = (a−1)/(a+b+x−1) matching the exact prefactor.
  if (a * (t / (alpha + T + t)) > SERIES_OVERFLOW_AZ) {
    const p = (a - 1) / (a + b + x - 1);
    return -Math.expm1(-(r + x) * Math.log1p((p * t) / (alpha + T))) / p;
  }
  const c = a + b + x - 1;
  const z = t / (alpha + T + t);
  const logOneMinusZ = -Math.log1p(t / (alpha + T));
  const scaledLogPower = (a - 1) * logOneMinusZ;
  const powerTerm = Math.abs(a - 1) < 1e-12 ? -logOneMinusZ : -Math.expm1(scaledLogPower) / (a - 1);
  const k = seriesK(a + b - 1 - r, a, c, z);
  return c * powerTerm - Math.exp(scaledLogPower) * k;
}

/**
 * K = Σ_{n≥1} k_n with k_1 = A·z and k_{n+1}/k_n = (A+n)(a+n−1) z / ((C+n)(n+1)).
 * C + n > 0 for n ≥ 1 because C = a+b+x−1 > −1. Terms eventually shrink at least geometrically
 * (ratio → z < 1); stop once a geometric bound on the tail is negligible. Needs ~40/(1−z) terms:
 * microseconds for realistic horizons (t ≲ 100·(α+T)); past ~10⁶·(α+T) the 5M-term cap truncates.
 */
function seriesK(A: number, a: number, c: number, z: number): number {
  let term = A * z;
  let sum = term;
  const tailFactor = z / (1 - z);
  for (let n = 1; n < 5_000_000; n++) {
    const ratio = ((A + n) * (a + n - 1) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    if (term === 0) break;
    if (ratio < 1 && Math.abs(term) * tailFactor <= 1e-16 * Math.abs(sum)) break;
  }
  return sum;
}

function compiledLogLikelihood(params: BgNbdParams, data: CompiledRows): number {
  const { r, alpha, a, b } = params;
  const logAlpha = Math.log(alpha);
  const betalnAB = betaln(a, b);
  const logA = Math.log(a);
  const lgammaR = gammaln(r);
  // Terms that depend only on x: ln Γ(r+x)/Γ(r) + r ln α + ln B(a, b+x)/B(a, b), and ln a/(b+x−1).
  const common = new Float64Array(data.distinctX.length);
  const dropout = new Float64Array(data.distinctX.length);
  for (let i = 0; i < data.distinctX.length; i++) {
    const x = data.distinctX[i];
    common[i] = gammaln(r + x) - lgammaR + r * logAlpha + betaln(a, b + x) - betalnAB;
    dropout[i] = x > 0 ? logA - Math.log(b + x - 1) : Number.NEGATIVE_INFINITY;
  }
  let total = 0;
  for (let j = 0; j < data.weight.length; j++) {
    const i = data.xIndex[j];
    const x = data.distinctX[i];
    // Alive through T, or dropped out right after the last purchase at t_x (x > 0 only).
    const aliveTerm = -(r + x) * Math.log(alpha + data.age[j]);
    const rowLL = x > 0 ? logAddExp(aliveTerm, dropout[i] - (r + x) * Math.log(alpha + data.tx[j])) : aliveTerm;
    total += data.weight[j] * (common[i] + rowLL);
  }
  return total;
}

function logAddExp(u: number, v: number): number {
  const hi = Math.max(u, v);
  if (hi === Number.NEGATIVE_INFINITY) return hi;
  return hi + Math.log1p(Math.exp(Math.min(u, v) - hi));
}

function compileRows(rows: readonly PurchaseSummary[]): CompiledRows {
  if (rows.length === 0) throw new RangeError("BG/NBD needs at least one customer");
  const groups = new Map<string, { x: number; tx: number; age: number; weight: number }>();
  for (const row of rows) {
    checkCustomer(row.x, row.t_x, row.T);
    const tx = row.x === 0 ? 0 : Math.min(row.t_x, row.T); // t_x is irrelevant when x = 0
    const key = `${row.x}|${tx}|${row.T}`;
    const group = groups.get(key);
    if (group) group.weight++;
    else groups.set(key, { x: row.x, tx, age: row.T, weight: 1 });
  }
  const distinct = [...new Set([...groups.values()].map((g) => g.x))].sort((u, v) => u - v);
  const indexOfX = new Map(distinct.map((x, i) => [x, i]));
  const list = [...groups.values()];
  return {
    distinctX: Float64Array.from(distinct),
    xIndex: Uint32Array.from(list, (g) => indexOfX.get(g.x) ?? 0),
    tx: Float64Array.from(list, (g) => g.tx),
    age: Float64Array.from(list, (g) => g.age),
    weight: Float64Array.from(list, (g) => g.weight),
    totalWeight: rows.length,
  };
}

/** r = 1 and α matching the observed purchase rate; a = 1, b = 3 (mean dropout probability 0.25). */
function startingValues(rows: readonly PurchaseSummary[]): BgNbdParams {
  let purchases = 0;
  let exposure = 0;
  for (const row of rows) {
    purchases += row.x;
    exposure += row.T;
  }
  const rate = purchases / Math.max(exposure, Number.MIN_VALUE);
  const alpha = Math.min(Math.max(1 / rate, 1e-6), 1e12);
  return { r: 1, alpha, a: 1, b: 3 };
}

function checkCustomer(x: number, t_x: number, T: number): void {
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`x must be a non-negative integer, got ${x}`);
  if (!(t_x >= 0 && Number.isFinite(t_x))) throw new RangeError(`t_x must be finite and >= 0, got ${t_x}`);
  if (!(T >= 0 && Number.isFinite(T))) throw new RangeError(`T must be finite and >= 0, got ${T}`);
}

function checkHorizon(t: number): void {
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`horizon t must be finite and >= 0, got ${t}`);
}
