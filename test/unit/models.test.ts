import { describe, expect, it } from "vitest";
import {
  type BgNbdParams,
  bgnbdLogLikelihood,
  conditionalExpectedPurchases,
  customerLifetimeValue,
  expectedAverageOrderValue,
  expectedPurchases,
  fitBgNbd,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  parseSummaryCsv,
  probabilityAlive,
  scoreMember,
} from "../../src/domain/models";
import csv from "../fixtures/cdnow_summary.csv?raw";

const cdnow = parseSummaryCsv(csv);
// Published CDNOW estimates (weeks): Fader, Hardie & Lee 2005; Fader & Hardie 2013.
const published = {
  bgnbd: { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 },
  gg: { p: 6.2488, q: 3.7446, gamma: 15.4477 },
};

const expectRelative = (actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(tolerance);

describe("CDNOW reproduction (weeks)", () => {
  const bgnbd = fitBgNbd(cdnow);
  const gg = fitGammaGamma(cdnow);

  it("reads all 2357 customers", () => {
    expect(cdnow).toHaveLength(2357);
    expect(cdnow[0]).toEqual({ x: 2, t_x: 30.43, T: 38.86, mBar: 22.35 });
  });

  it("fits BG/NBD to the published r, α, a, b and log-likelihood", () => {
    for (const key of ["r", "alpha", "a", "b"] as const) expectRelative(bgnbd[key], published.bgnbd[key], 1e-3);
    expect(Math.abs(bgnbd.logLikelihood - -9582.43)).toBeLessThan(0.05);
    expect(bgnbd.converged).toBe(true);
    expect(Math.abs(bgnbdLogLikelihood(published.bgnbd, cdnow) - -9582.43)).toBeLessThan(0.05);
  });

  it("fits Gamma-Gamma on the 946 repeat buyers (full density of mBar, all constants kept)", () => {
    expect(gg.n).toBe(946);
    for (const key of ["p", "q", "gamma"] as const) expectRelative(gg[key], published.gg[key], 1e-3);
    expect(Math.abs(gg.logLikelihood - -4055.92)).toBeLessThan(0.05);
    expect(gg.converged).toBe(true);
  });

  it("fits both models quickly", () => {
    // Measured in workerd: about 75 ms for BG/NBD and 10 ms for Gamma-Gamma.
    const started = Date.now();
    fitBgNbd(cdnow);
    fitGammaGamma(cdnow);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("gives the published unconditional E[X(t)]", () => {
    const expected: Array<[number, number]> = [
      [1, 0.0532],
      [3, 0.1506],
      [32, 1.044],
      [78, 1.858],
    ];
    for (const [t, value] of expected) expect(expectedPurchases(bgnbd, t)).toBeCloseTo(value, 3);
  });

  it("gives the published conditional expectation and P(alive) for customer 1", () => {
    expect(conditionalExpectedPurchases(bgnbd, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 3);
    const pAlive = probabilityAlive(published.bgnbd, 2, 30.43, 38.86);
    expect(Math.abs(pAlive - 0.726)).toBeLessThan(1e-3); // exactly 0.72661

    // Hand formula: 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
    const { r, alpha, a, b } = published.bgnbd;
    const byHand = 1 / (1 + (a / (b + 1)) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2));
    expect(pAlive).toBeCloseTo(byHand, 12);
  });

  it("expected order value blends the population mean and the customer's mean", () => {
    const { p, q, gamma } = gg;
    expect(expectedAverageOrderValue(gg, 0, 0)).toBeCloseTo((p * gamma) / (q - 1), 10);
    const x = 2;
    const mBar = 22.35;
    const weight = (p * x) / (p * x + q - 1);
    const blended = (1 - weight) * ((p * gamma) / (q - 1)) + weight * mBar;
    expect(expectedAverageOrderValue(gg, x, mBar)).toBeCloseTo(blended, 10);
  });
});

describe("E[X(t)] matches the textbook ₂F₁ formula", () => {
  /** Naive Gauss series; fine for the moderate parameters and z used here. */
  function hyp2f1(a: number, b: number, c: number, z: number): number {
    let term = 1;
    let sum = 1;
    for (let n = 0; n < 100_000 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
      sum += term;
    }
    return sum;
  }
  const textbook = ({ r, alpha, a, b }: BgNbdParams, t: number, x: number, T: number) => {
    const c = a + b + x - 1;
    const z = t / (alpha + T + t);
    return (c / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, c, z));
  };
  const cases: Array<[BgNbdParams, number, number, number]> = [
    [published.bgnbd, 32, 0, 0],
    [published.bgnbd, 39, 2, 38.86],
    [published.bgnbd, 39, 10, 38.86],
    [{ r: 1.3, alpha: 9, a: 2.5, b: 0.4 }, 20, 3, 15],
    [{ r: 0.3, alpha: 31, a: 0.2, b: 0.5 }, 90, 0, 0], // a + b < 1: negative ₂F₁ parameter c
  ];
  it.each(cases)("params %o, t=%d, x=%d, T=%d", (params, t, x, T) => {
    const whileAlive = conditionalExpectedPurchases(params, t, x, T, T); // t_x = T ⇒ divide out P(alive)
    const pAlive = probabilityAlive(params, x, T, T);
    expectRelative(whileAlive / pAlive, textbook(params, t, x, T), 1e-9);
  });

  it("is continuous through a = 1, where the closed form is 0/0", () => {
    const at = (a: number) => expectedPurchases({ r: 0.5, alpha: 5, a, b: 2 }, 30);
    expect(at(1)).toBeGreaterThan(0);
    expectRelative(at(1 + 1e-7), at(1), 1e-6);
    expectRelative(at(1 - 1e-7), at(1), 1e-6);
  });

  it("is 0 at t = 0 and increasing in t", () => {
    expect(expectedPurchases(published.bgnbd, 0)).toBe(0);
    let previous = 0;
    for (const t of [0.5, 1, 5, 20, 100, 1000, 10_000]) {
      const value = expectedPurchases(published.bgnbd, t);
      expect(value).toBeGreaterThan(previous);
      previous = value;
    }
  });
});

describe("P(alive)", () => {
  it("is exactly 1 without repeat purchases, whatever the age", () => {
    for (const T of [0, 1, 50, 1e6]) expect(probabilityAlive(published.bgnbd, 0, 0, T)).toBe(1);
  });

  it("falls as silence since the last purchase grows, and is highest when t_x = T", () => {
    const atT = probabilityAlive(published.bgnbd, 3, 20, 20);
    const later = probabilityAlive(published.bgnbd, 3, 20, 40);
    const muchLater = probabilityAlive(published.bgnbd, 3, 20, 80);
    expect(atT).toBeGreaterThan(later);
    expect(later).toBeGreaterThan(muchLater);
    // t_x = T: odds are a/(b+x−1) exactly.
    expect(atT).toBeCloseTo(1 / (1 + published.bgnbd.a / (published.bgnbd.b + 2)), 12);
  });
});

describe("CLV", () => {
  const bgnbd = published.bgnbd;
  const gg = published.gg;
  const history = { bgnbd, gg, x: 2, t_x: 30.43, T: 38.86, mBar: 22.35 };

  it("is expected purchases × expected order value when undiscounted", () => {
    const clv = customerLifetimeValue({ ...history, monthlyDiscountRate: 0, periodsPerMonth: 4.345 });
    const purchases = conditionalExpectedPurchases(bgnbd, 12 * 4.345, 2, 30.43, 38.86);
    expect(clv).toBeCloseTo(purchases * expectedAverageOrderValue(gg, 2, 22.35), 10);
  });

  it("discounts each month's increment at the end of that month", () => {
    const m = 4.345;
    const y1 = conditionalExpectedPurchases(bgnbd, m, 2, 30.43, 38.86);
    const y2 = conditionalExpectedPurchases(bgnbd, 2 * m, 2, 30.43, 38.86);
    const value = expectedAverageOrderValue(gg, 2, 22.35);
    const byHand = (y1 * value) / 1.05 + ((y2 - y1) * value) / 1.05 ** 2;
    const clv = customerLifetimeValue({ ...history, months: 2, monthlyDiscountRate: 0.05, periodsPerMonth: m });
    expect(clv).toBeCloseTo(byHand, 10);
    expect(customerLifetimeValue({ ...history, months: 0, periodsPerMonth: m })).toBe(0);
  });

  it("scores a member with consistent fields", () => {
    const score = scoreMember({ ...history, unit: "weeks" });
    expect(Math.abs(score.pAlive - 0.726)).toBeLessThan(1e-3);
    expect(score.churnProbability).toBeCloseTo(1 - score.pAlive, 15);
    expect(score.expectedPurchases90d).toBeCloseTo(conditionalExpectedPurchases(bgnbd, 90 / 7, 2, 30.43, 38.86), 12);
    expect(score.expectedOrderValue).toBeCloseTo(expectedAverageOrderValue(gg, 2, 22.35), 12);
    expect(score.clv12m).toBeCloseTo(customerLifetimeValue({ ...history, periodsPerMonth: 4.345 }), 12);
  });

  it("gives the same probabilities in days once α and the history are rescaled", () => {
    const weeks = scoreMember({ ...history, unit: "weeks" });
    const days = scoreMember({
      ...history,
      bgnbd: { ...bgnbd, alpha: bgnbd.alpha * 7 },
      t_x: history.t_x * 7,
      T: history.T * 7,
      unit: "days",
    });
    expect(days.pAlive).toBeCloseTo(weeks.pAlive, 12);
    expect(days.expectedPurchases90d).toBeCloseTo(weeks.expectedPurchases90d, 10);
    // A month is 30 days vs 4.345 weeks (30.4 days), as in lifetimes, so CLV differs slightly.
    expectRelative(days.clv12m, weeks.clv12m, 0.02);
  });
});

describe("extreme inputs never give NaN", () => {
  const params = published.bgnbd;
  const histories: Array<[number, number, number]> = [
    [0, 0, 0],
    [0, 0, 1e5],
    [1, 0, 0],
    [500, 38, 38.86],
    [500, 1, 38.86],
    [500, 38.86, 38.86],
    [10_000, 100, 100],
  ];
  it.each(histories)("x=%d, t_x=%d, T=%d", (x, t_x, T) => {
    for (const t of [0, 1e-9, 1, 39, 1e4]) {
      const value = conditionalExpectedPurchases(params, t, x, t_x, T);
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
    const score = scoreMember({ bgnbd: params, gg: published.gg, x, t_x, T, mBar: x > 0 ? 25 : 0, unit: "weeks" });
    for (const value of Object.values(score)) expect(Number.isFinite(value)).toBe(true);
    expect(score.pAlive).toBeGreaterThanOrEqual(0);
    expect(score.pAlive).toBeLessThanOrEqual(1);
  });

  it("x = 500 with a long silence is almost surely churned; active heavy buyer expects many purchases", () => {
    expect(probabilityAlive(params, 500, 1, 38.86)).toBeLessThan(1e-100);
    expect(conditionalExpectedPurchases(params, 39, 500, 38.86, 38.86)).toBeGreaterThan(100);
  });

  it("the fits stay finite on tiny or degenerate data and reject unusable data", () => {
    const single = fitBgNbd([
      { x: 1, t_x: 5, T: 10 },
      { x: 0, t_x: 0, T: 10 },
    ]);
    for (const v of [single.r, single.alpha, single.a, single.b, single.logLikelihood]) expect(Number.isNaN(v)).toBe(false);
    expect(() => fitBgNbd([])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: 0, t_x: 0, T: 10 }])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: -1, t_x: 0, T: 10 }])).toThrow(RangeError);
    expect(() => fitGammaGamma([{ x: 0, mBar: 0 }])).toThrow(RangeError);
    const gg = fitGammaGamma([
      { x: 1, mBar: 10 },
      { x: 3, mBar: 12 },
    ]);
    for (const v of [gg.p, gg.q, gg.gamma, gg.logLikelihood]) expect(Number.isNaN(v)).toBe(false);
  });
});

describe("parameter recovery on simulated data", () => {
  /** mulberry32: small seeded PRNG so the simulated data set is the same on every run. */
  function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let v = state;
      v = Math.imul(v ^ (v >>> 15), v | 1);
      v ^= v + Math.imul(v ^ (v >>> 7), v | 61);
      return ((v ^ (v >>> 14)) >>> 0) / 4294967296;
    };
  }
  const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  /** Gamma(shape, rate) by Marsaglia & Tsang, with the U^(1/shape) boost for shape < 1. */
  function gammaVariate(random: () => number, shape: number, rate: number): number {
    if (shape < 1) return gammaVariate(random, shape + 1, rate) * (1 - random()) ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = normal(random);
      const v = (1 + c * z) ** 3;
      if (v <= 0) continue;
      const u = 1 - random();
      if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return (d * v) / rate;
    }
  }
  const betaVariate = (random: () => number, a: number, b: number) => {
    const g = gammaVariate(random, a, 1);
    return g / (g + gammaVariate(random, b, 1));
  };

  /** BG/NBD: buy at Poisson rate λ from the first purchase; after each repeat purchase drop out with prob. p. */
  function simulateCustomers(random: () => number, params: BgNbdParams, n: number) {
    const customers: Array<{ x: number; t_x: number; T: number }> = [];
    for (let i = 0; i < n; i++) {
      const T = 30 + random() * 330; // days since first purchase
      const lambda = gammaVariate(random, params.r, params.alpha);
      const p = betaVariate(random, params.a, params.b);
      let lastPurchase = 0;
      let x = 0;
      for (;;) {
        const next = lastPurchase - Math.log(1 - random()) / lambda;
        if (next > T) break;
        lastPurchase = next;
        x++;
        if (random() < p) break;
      }
      customers.push({ x, t_x: lastPurchase, T });
    }
    return customers;
  }

  it("recovers BG/NBD parameters (days) and beats the truth's likelihood", () => {
    const truth = { r: 0.6, alpha: 25, a: 0.8, b: 3 };
    const customers = simulateCustomers(seededRandom(42), truth, 20_000);
    const fit = fitBgNbd(customers);
    expect(fit.converged).toBe(true);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgnbdLogLikelihood(truth, customers));
    expectRelative(fit.r, truth.r, 0.1);
    expectRelative(fit.alpha, truth.alpha, 0.1);
    expectRelative(fit.a, truth.a, 0.15);
    expectRelative(fit.b, truth.b, 0.15);
    // Derived quantities are much better identified than (a, b) individually.
    expectRelative(expectedPurchases(fit, 90), expectedPurchases(truth, 90), 0.05);
  });

  it("recovers Gamma-Gamma parameters", () => {
    const random = seededRandom(7);
    const truth = { p: 6, q: 4, gamma: 15 };
    const rows: Array<{ x: number; mBar: number }> = [];
    for (let i = 0; i < 20_000; i++) {
      const x = 1 + Math.floor(-Math.log(1 - random()) * 3); // 1, 2, 3, ... repeat purchases
      const nu = gammaVariate(random, truth.q, truth.gamma);
      // Sum of x Gamma(p, ν) transaction values is Gamma(p·x, ν).
      rows.push({ x, mBar: gammaVariate(random, truth.p * x, nu) / x });
    }
    const fit = fitGammaGamma(rows);
    expect(fit.converged).toBe(true);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(gammaGammaLogLikelihood(truth, rows));
    // p and γ trade off along a ridge (standard errors ≈ 4 % and 6 % at n = 20 000); pγ/(q−1) is sharp.
    expectRelative(fit.p, truth.p, 0.15);
    expectRelative(fit.q, truth.q, 0.1);
    expectRelative(fit.gamma, truth.gamma, 0.2);
    expectRelative(expectedAverageOrderValue(fit, 0, 0), expectedAverageOrderValue(truth, 0, 0), 0.02);
  });
});

describe("summary CSV", () => {
  it("accepts lifetimes column names, ignores extra columns, defaults spend to 0", () => {
    const rows = parseSummaryCsv('customer_id,frequency,recency,T,monetary_value\r\n"a",2,10.5,20,9.5\r\nb,0,0,20,0\r\n');
    expect(rows).toEqual([
      { x: 2, t_x: 10.5, T: 20, mBar: 9.5 },
      { x: 0, t_x: 0, T: 20, mBar: 0 },
    ]);
    expect(parseSummaryCsv("x,t_x,T\n1,2,3\n")).toEqual([{ x: 1, t_x: 2, T: 3, mBar: 0 }]);
    expect(() => parseSummaryCsv("x,T\n1,3\n")).toThrow(/t_x/);
    expect(() => parseSummaryCsv("x,t_x,T\n1,abc,3\n")).toThrow(/non-numeric/);
  });
});

describe("degenerate fits", () => {
  it("huge a and b (a point-mass dropout) give finite expected purchases, quickly, matching the limit", async () => {
    const { conditionalExpectedPurchases, probabilityAlive } = await import("../../src/domain/models");
    const params = { r: 0.5, alpha: 30, a: 5.9e7, b: 6.1e8 };
    const started = Date.now();
    const value = conditionalExpectedPurchases(params, 90, 3, 200, 400);
    expect(Date.now() - started).toBeLessThan(50);
    expect(Number.isFinite(value)).toBe(true);
    // Limit by hand: p = a/(a+b) ≈ 0.0882, E|alive = (1/p)(1 − ((α+T)/(α+T+p t))^(r+x)), times P(alive).
    const p = (params.a - 1) / (params.a + params.b + 3 - 1);
    const whileAlive = (1 - ((30 + 400) / (30 + 400 + p * 90)) ** 3.5) / p;
    expect(value).toBeCloseTo(whileAlive * probabilityAlive(params, 3, 200, 400), 6);
    // And it joins the exact series smoothly at the switch (a·z = 300).
    const big = { r: 0.5, alpha: 30, a: 2_000, b: 20_000 };
    const tAt = (az: number) => ((az / big.a) * (big.alpha + 400)) / (1 - az / big.a);
    const below = conditionalExpectedPurchases(big, tAt(299.9), 3, 200, 400);
    const above = conditionalExpectedPurchases(big, tAt(300.1), 3, 200, 400);
    expect(Number.isFinite(below)).toBe(true);
    expect(Math.abs(below - above) / above).toBeLessThan(0.01);
  });
});
