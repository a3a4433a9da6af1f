/**
 * Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").
 *
 * Each transaction value ~ Gamma(p, ν) with a per-customer rate ν ~ Gamma(q, γ). Fitted on repeat
 * buyers (x > 0) and their mean repeat-transaction value mBar. Currency-agnostic: γ is in the
 * currency unit of mBar, p and q are unit-free. Assumes spend is independent of purchase frequency.
 */
import gammaln from "@stdlib/math-base-special-gammaln";
import { minimize } from "./fit";

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface SpendSummary {
  /** Repeat purchases; rows with x = 0 are ignored by the fit. */
  x: number;
  /** Mean value of the x repeat purchases (0 when x = 0). */
  mBar: number;
}

export interface GammaGammaFit extends GammaGammaParams {
  logLikelihood: number;
  /** Number of customers the fit used (x > 0 and mBar > 0). */
  n: number;
  iterations: number;
  converged: boolean;
}

/**
 * Log-likelihood of the mean spends, summing the full density of mBar given x:
 *   f(mBar | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · mBar^(px−1) · x^(px) / (γ + x·mBar)^(px+q)
 * i.e. every constant kept (this is the form lifetimes uses and gives −4055.92 on CDNOW). Rows with
 * x = 0 or mBar ≤ 0 carry no spend information and are skipped.
 */
export function gammaGammaLogLikelihood(params: GammaGammaParams, rows: readonly SpendSummary[]): number {
  return compiledLogLikelihood(params, compileRows(rows));
}

export function fitGammaGamma(rows: readonly SpendSummary[], options: { maxIterations?: number } = {}): GammaGammaFit {
  const data = compileRows(rows);
  if (data.weight.length === 0) throw new RangeError("Gamma-Gamma needs at least one repeat buyer with positive spend");
  const toParams = (theta: number[]): GammaGammaParams => ({
    p: Math.exp(theta[0]),
    q: Math.exp(theta[1]),
    gamma: Math.exp(theta[2]),
  });
  const objective = (theta: number[]): number => {
    if (theta.some((v) => Math.abs(v) > 40)) return Number.POSITIVE_INFINITY;
    return -compiledLogLikelihood(toParams(theta), data) / data.n;
  };
  // Start at p = 1, q = 2, γ = mean spend, so the prior mean pγ/(q−1) equals the observed mean.
  let spend = 0;
  for (let j = 0; j < data.weight.length; j++) spend += data.weight[j] * data.mBar[j];
  const theta0 = [0, Math.log(2), Math.log(spend / data.n)];
  const result = minimize(objective, theta0, { maxIterations: options.maxIterations });
  const params = toParams(result.x);
  return {
    ...params,
    logLikelihood: compiledLogLikelihood(params, data),
    n: data.n,
    iterations: result.iterations,
    converged: result.converged,
  };
}

/**
 * E[M | x, mBar]: expected value of a future transaction, a credibility-weighted blend of the population
 * mean pγ/(q−1) and the customer's own mBar. With x = 0 this is the population mean. Returns +Infinity
 * when px + q ≤ 1 (the posterior mean does not exist, e.g. x = 0 with a fitted q ≤ 1).
 */
export function expectedAverageOrderValue(params: GammaGammaParams, x: number, mBar: number): number {
  if (!(x >= 0 && Number.isFinite(x))) throw new RangeError(`x must be finite and >= 0, got ${x}`);
  if (!(mBar >= 0 && Number.isFinite(mBar))) throw new RangeError(`mBar must be finite and >= 0, got ${mBar}`);
  const { p, q, gamma } = params;
  const denominator = p * x + q - 1;
  if (denominator <= 0) return Number.POSITIVE_INFINITY;
  return (p * (gamma + (x > 0 ? x * mBar : 0))) / denominator;
}

interface CompiledRows {
  distinctX: Float64Array;
  xIndex: Uint32Array;
  mBar: Float64Array;
  logMBar: Float64Array;
  weight: Float64Array;
  n: number;
}

function compiledLogLikelihood(params: GammaGammaParams, data: CompiledRows): number {
  const { p, q, gamma } = params;
  const logGamma = Math.log(gamma);
  const lgammaQ = gammaln(q);
  // Terms that depend only on x.
  const common = new Float64Array(data.distinctX.length);
  for (let i = 0; i < data.distinctX.length; i++) {
    const px = p * data.distinctX[i];
    common[i] = gammaln(px + q) - gammaln(px) - lgammaQ + q * logGamma + px * Math.log(data.distinctX[i]);
  }
  let total = 0;
  for (let j = 0; j < data.weight.length; j++) {
    const i = data.xIndex[j];
    const x = data.distinctX[i];
    const px = p * x;
    total += data.weight[j] * (common[i] + (px - 1) * data.logMBar[j] - (px + q) * Math.log(gamma + x * data.mBar[j]));
  }
  return total;
}

function compileRows(rows: readonly SpendSummary[]): CompiledRows {
  const groups = new Map<string, { x: number; mBar: number; weight: number }>();
  let n = 0;
  for (const row of rows) {
    if (!(Number.isFinite(row.x) && Number.isFinite(row.mBar))) {
      throw new RangeError(`x and mBar must be finite, got x=${row.x} mBar=${row.mBar}`);
    }
    if (row.x <= 0 || row.mBar <= 0) continue;
    n++;
    const key = `${row.x}|${row.mBar}`;
    const group = groups.get(key);
    if (group) group.weight++;
    else groups.set(key, { x: row.x, mBar: row.mBar, weight: 1 });
  }
  const list = [...groups.values()];
  const distinct = [...new Set(list.map((g) => g.x))].sort((u, v) => u - v);
  const indexOfX = new Map(distinct.map((x, i) => [x, i]));
  return {
    distinctX: Float64Array.from(distinct),
    xIndex: Uint32Array.from(list, (g) => indexOfX.get(g.x) ?? 0),
    mBar: Float64Array.from(list, (g) => g.mBar),
    logMBar: Float64Array.from(list, (g) => Math.log(g.mBar)),
    weight: Float64Array.from(list, (g) => g.weight),
    n,
  };
}
