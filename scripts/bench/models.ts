/**
 * BG/NBD + Gamma-Gamma on CDNOW (the model code the nightly cron runs), in this process:
 *  - the fit, against one log-likelihood evaluation of each model over the same rows (so the
 *    ratio is "cost in likelihood evaluations"), with the fitted parameters next to the published ones;
 *  - scoring 100k members (P(alive), 90-day purchases, order value, 12-month CLV), against a
 *    loop of the same size doing a trivial computation over the same rows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bgnbdLogLikelihood,
  type CustomerSummary,
  fitBgNbd,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  parseSummaryCsv,
  scoreMember,
} from "../../src/domain/models";
import { root } from "./stack";

const PUBLISHED = {
  bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4 },
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: -4055.9 },
};

const timeMs = (fn: () => unknown) => {
  const started = performance.now();
  fn();
  return performance.now() - started;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function benchModels(opts: { rounds: number; scoreMembers: number }) {
  const rows = parseSummaryCsv(readFileSync(join(root, "test/fixtures/cdnow_summary.csv"), "utf8"));
  const repeat = rows.filter((r) => r.x > 0);

  let bg = fitBgNbd(rows);
  let gg = fitGammaGamma(rows);
  const fitMs = median(
    Array.from({ length: opts.rounds }, () =>
      timeMs(() => {
        bg = fitBgNbd(rows);
        gg = fitGammaGamma(rows);
      }),
    ),
  );
  // Baseline: one evaluation of both likelihoods at the fitted point.
  const likelihoodMs = median(
    Array.from({ length: Math.max(5, opts.rounds * 5) }, () =>
      timeMs(() => {
        bgnbdLogLikelihood(bg, rows);
        gammaGammaLogLikelihood(gg, repeat);
      }),
    ),
  );

  // 100k members: the CDNOW rows repeated, in weeks (CDNOW's unit).
  const members: CustomerSummary[] = Array.from({ length: opts.scoreMembers }, (_, i) => rows[i % rows.length]);
  const params = { bgnbd: { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b }, gg: { p: gg.p, q: gg.q, gamma: gg.gamma } };
  let sink = 0;
  const scoreMs = median(
    Array.from({ length: opts.rounds }, () =>
      timeMs(() => {
        for (const m of members) sink += scoreMember({ ...params, x: m.x, t_x: m.t_x, T: m.T, mBar: m.mBar, unit: "weeks" }).clv12m;
      }),
    ),
  );
  const trivialMs = median(
    Array.from({ length: opts.rounds }, () =>
      timeMs(() => {
        for (const m of members) sink += m.x + m.t_x / (m.T + 1) + m.mBar;
      }),
    ),
  );
  if (!Number.isFinite(sink)) throw new Error("scores are not finite");

  return {
    customers: rows.length,
    repeatBuyers: repeat.length,
    fit: {
      ms: fitMs,
      likelihoodEvalMs: likelihoodMs,
      ratioToOneLikelihood: fitMs / likelihoodMs,
      bgnbd: { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, logLikelihood: bg.logLikelihood, iterations: bg.iterations },
      gammaGamma: { p: gg.p, q: gg.q, gamma: gg.gamma, logLikelihood: gg.logLikelihood, iterations: gg.iterations },
      published: PUBLISHED,
    },
    scoring: {
      members: members.length,
      ms: scoreMs,
      trivialLoopMs: trivialMs,
      ratio: scoreMs / trivialMs,
      usPerMember: (scoreMs * 1000) / members.length,
    },
  };
}
