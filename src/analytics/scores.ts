import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type BgNbdParams, conditionalExpectedPurchases, expectedAverageOrderValue, probabilityAlive, scoreMember } from "../domain/models";
import type { StoredFit } from "./fit";
import { type PageLimits, rangeEnd, rangeStart, retryOnce, type SweepProgress } from "./sql";
import { purchaseSummariesSql, type RawSummary, type SummaryRow, toSummary } from "./summaries";

export type ScoresOutcome = SweepProgress & { scored: number; cleared: number };

/** Minor units as a safe integer; an undefined mean (Gamma-Gamma q ≤ 1) or no spend model → null. */
const minorUnits = (v: number | null) =>
  v !== null && Number.isFinite(v) && v >= 0 ? Math.min(Math.round(v), Number.MAX_SAFE_INTEGER) : null;
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Whether expected purchases can be computed with these parameters. Near-degenerate fits (a and
 * b in the millions: dropout almost the same for everyone) make the series behind
 * E[Y(t) | history] non-finite, and each attempt costs the series' full term cap, so the
 * scorer asks once per run and then leaves expected purchases and CLV empty.
 */
export function expectationsComputable(bgnbd: BgNbdParams): boolean {
  return Number.isFinite(conditionalExpectedPurchases(bgnbd, 90, 1, 30, 90));
}

type ScoreRow = [
  id: string,
  churn: number | null,
  expected90d: number | null,
  orderValue: number | null,
  clv: number | null,
  scoredAt: string | null,
];

function scoreRow(s: SummaryRow, fit: StoredFit, withExpectations: boolean, at: string): ScoreRow {
  const { bgnbd, gammaGamma } = fit.params;
  if (!withExpectations) {
    const orderValue = gammaGamma ? minorUnits(expectedAverageOrderValue(gammaGamma, s.x, s.mBar)) : null;
    return [s.memberId, finiteOrNull(1 - probabilityAlive(bgnbd, s.x, s.t_x, s.T)), null, orderValue, null, at];
  }
  // Without a spend model the placeholder only feeds order value and CLV, which are dropped.
  const score = scoreMember({ bgnbd, gg: gammaGamma ?? { p: 1, q: 2, gamma: 1 }, x: s.x, t_x: s.t_x, T: s.T, mBar: s.mBar, unit: "days" });
  const expected90d = finiteOrNull(score.expectedPurchases90d);
  return [
    s.memberId,
    finiteOrNull(score.churnProbability),
    expected90d,
    gammaGamma ? minorUnits(score.expectedOrderValue) : null,
    // CLV is only meaningful when the expected purchases behind it are.
    gammaGamma && expected90d !== null ? minorUnits(score.clv12m) : null,
    at,
  ];
}

/**
 * Per-member scores from the current fit, page by page (one read of the page's summaries,
 * one UPDATE … FROM json_each for the page): churn probability = 1 − P(alive), expected
 * purchases in 90 days, expected order value and 12-month discounted CLV (minor units).
 * Members without a counted purchase have no scores (BG/NBD says nothing about them): any old
 * scores are cleared. Erased members are left alone.
 */
export async function scoreProgramMembers(
  db: Database,
  programId: string,
  fit: StoredFit,
  now: Date,
  limits: PageLimits,
): Promise<ScoresOutcome> {
  const at = now.toISOString();
  const withExpectations = expectationsComputable(fit.params.bgnbd);
  let after = rangeStart(limits.range); // rowid cursor: storage order, see memberPage in ./sql
  let scored = 0;
  let cleared = 0;
  let members = 0;
  for (let pages = 1; pages <= limits.maxPages; pages++) {
    const scope = sql`SELECT rowid AS rid, id, churn_probability IS NOT NULL AS had_score FROM members
      WHERE program_id = ${programId} AND rowid > ${after}${rangeEnd(limits.range)} AND status NOT IN ('erased', 'merged') ORDER BY rowid LIMIT ${limits.batchSize}`;
    const page = await retryOnce(() => db.all<RawSummary & { rid: number; had_score: number }>(purchaseSummariesSql(programId, at, scope)));
    members += page.length;
    const updates: ScoreRow[] = [];
    // updates[i]'s rowid: the UPDATE finds each row by rowid (adjacent table pages), the id and
    // program are only checked (unary + keeps the planner off the scattered id indexes).
    const rowids: number[] = [];
    for (const raw of page) {
      const s = toSummary(raw);
      if (s.purchaseDays > 0) updates.push(scoreRow(s, fit, withExpectations, at));
      else if (Number(raw.had_score)) updates.push([s.memberId, null, null, null, null, null]);
      else continue;
      rowids.push(Number(raw.rid));
    }
    if (updates.length > 0) {
      await retryOnce(() =>
        db.run(sql`UPDATE members SET churn_probability = v.churn, expected_purchases_90d = v.expected_90d,
            expected_order_value = v.order_value, clv_12m = v.clv, scored_at = v.scored_at
          FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS churn, json_extract(value, '$[2]') AS expected_90d,
                       json_extract(value, '$[3]') AS order_value, json_extract(value, '$[4]') AS clv, json_extract(value, '$[5]') AS scored_at,
                       json_extract(value, '$[6]') AS rid
                FROM json_each(${JSON.stringify(updates.map((u, i) => [...u, rowids[i]]))})) AS v
          WHERE members.rowid = v.rid AND +members.id = v.id AND +members.program_id = ${programId}`),
      );
      for (const u of updates) u[5] === null ? cleared++ : scored++;
    }
    if (page.length < limits.batchSize) return { pages, members, complete: true, scored, cleared };
    // The summaries come back in id order: the cursor is the page's highest rowid.
    after = page.reduce((max, row) => Math.max(max, Number(row.rid)), after);
  }
  return { pages: limits.maxPages, members, complete: false, scored, cleared };
}
