import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { quintileEdgesFromTiles, type RfmEdges, type TileBounds } from "../domain/segments/rfm";
import { VALUE_SEGMENTS, type ValueSegment, valueSegment } from "../domain/segments/value-segments";
import { lifecycleThresholdsOf } from "./lifecycle";
import { lastEngagedColumn, type PageLimits, rowsAffected, type SweepProgress, sweepMemberPages, wholeDaysSince } from "./sql";

// RFM from the member row's purchase figures (the same facts segment rules read):
//   R = whole days since last_purchase_at (or since the later of it and last_activity_at when the
//   program's lifecycle settings count activities), F = orders_count, M = lifetime_spend (net of refunds).
// Edges come from NTILE(5) over the program's purchasers (see domain/segments/rfm.ts), then
// every member is scored set-based, page by page, with the edges bound into a CASE expression.

const PURCHASER_SQL = "(orders_count > 0 AND last_purchase_at IS NOT NULL)";
const PURCHASER = sql.raw(PURCHASER_SQL);

/** RfmEdges with plain arrays, as they are returned in summaries. */
export type RfmEdgeLists = { [K in keyof RfmEdges]: number[] };

type Recency = "purchases" | "activities";
type Dimension = { key: keyof RfmEdges; value: (now: string, recency: Recency) => SQL; higherIsBetter: boolean };
const DIMENSIONS: Dimension[] = [
  // R counts days since the last purchase, or since the last purchase or activity when the program says so.
  { key: "recency", value: (now, recency) => wholeDaysSince(lastEngagedColumn(recency), now), higherIsBetter: false },
  { key: "frequency", value: () => sql.raw("orders_count"), higherIsBetter: true },
  { key: "monetary", value: () => sql.raw("lifetime_spend"), higherIsBetter: true },
];

const tilesSql = (programId: string, value: SQL) => sql`
  SELECT tile, MIN(v) AS min, MAX(v) AS max FROM (
    SELECT v, NTILE(5) OVER (ORDER BY v) AS tile FROM (
      SELECT ${value} AS v FROM members WHERE program_id = ${programId} AND status NOT IN ('erased', 'merged') AND ${PURCHASER}))
  GROUP BY tile ORDER BY tile`;

/** Quintile edges of R, F and M over the program's purchasers, from three NTILE(5) queries. */
export async function rfmEdgesOf(db: Database, programId: string, now: string, recency: Recency = "purchases"): Promise<RfmEdgeLists> {
  const [r, f, m] = await db.batch([
    db.all<TileBounds>(tilesSql(programId, DIMENSIONS[0].value(now, recency))),
    db.all<TileBounds>(tilesSql(programId, DIMENSIONS[1].value(now, recency))),
    db.all<TileBounds>(tilesSql(programId, DIMENSIONS[2].value(now, recency))),
  ]);
  const edges = (rows: TileBounds[]) => quintileEdgesFromTiles(rows.map((t) => ({ min: Number(t.min), max: Number(t.max) })));
  return { recency: edges(r), frequency: edges(f), monetary: edges(m) };
}

/** 1 + the number of edges the value is strictly better than: `scoreWithEdges` in SQL. */
function scoreSql(value: SQL, edges: readonly number[], higherIsBetter: boolean): SQL {
  const beaten = edges.map((e) => (higherIsBetter ? sql` + (${value} > ${e})` : sql` + (${value} < ${e})`));
  return sql`(CASE WHEN ${PURCHASER} THEN 1${sql.join(beaten)} ELSE 1 END)`;
}

/**
 * value_segment from the stored R, F, M and orders, as a lookup generated from `valueSegment`
 * itself (it only tells orders = 1 apart from orders > 1), so SQL and the domain rule cannot drift.
 */
function valueSegmentSql(): SQL {
  const keysBySegment = new Map<ValueSegment, { single: number[]; repeat: number[] }>(
    VALUE_SEGMENTS.map((s) => [s, { single: [], repeat: [] }]),
  );
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++)
      for (let m = 1; m <= 5; m++) {
        const key = r * 100 + f * 10 + m;
        const single = valueSegment({ r: r as 1, f: f as 1, m: m as 1, orders: 1 });
        const repeat = valueSegment({ r: r as 1, f: f as 1, m: m as 1, orders: 2 });
        if (single) keysBySegment.get(single)!.single.push(key);
        if (repeat) keysBySegment.get(repeat)!.repeat.push(key);
      }
  const key = "(rfm_r * 100 + rfm_f * 10 + rfm_m)";
  const branches = (which: "single" | "repeat") =>
    [...keysBySegment]
      .filter(([, k]) => k[which].length > 0)
      .map(([segment, k]) => `WHEN ${key} IN (${k[which].join(",")}) THEN '${segment}'`)
      .join(" ");
  return sql.raw(`(CASE WHEN NOT ${PURCHASER_SQL} THEN NULL
    WHEN orders_count = 1 THEN (CASE ${branches("single")} END)
    ELSE (CASE ${branches("repeat")} END) END)`);
}
const VALUE_SEGMENT_SQL = valueSegmentSql();

export type RfmOutcome = SweepProgress & { edges: RfmEdgeLists; updated: number };

/** Score R, F, M and the value segment of every (non-erased) member of the program, page by page. */
export async function scoreProgramRfm(db: Database, programId: string, now: Date, limits: PageLimits): Promise<RfmOutcome> {
  const { recency } = await lifecycleThresholdsOf(db, programId);
  return scoreRfmWithEdges(db, programId, await rfmEdgesOf(db, programId, now.toISOString(), recency), now, limits, recency);
}

/**
 * Score the members `limits` covers with edges computed beforehand (a fanned-out run computes
 * them once, so every shard scores against the same quintiles). Only rows whose R, F, M or
 * value segment change are written.
 */
export async function scoreRfmWithEdges(
  db: Database,
  programId: string,
  edges: RfmEdgeLists,
  now: Date,
  limits: PageLimits,
  recency: Recency = "purchases",
): Promise<RfmOutcome> {
  const at = now.toISOString();
  const [r, f, m] = DIMENSIONS.map((d) => scoreSql(d.value(at, recency), edges[d.key], d.higherIsBetter));
  let updated = 0;
  const progress = await sweepMemberPages(
    db,
    programId,
    limits,
    (page) => [
      // Two statements: the value segment reads the R, F, M the first one just wrote.
      db.run(sql`UPDATE members SET rfm_r = ${r}, rfm_f = ${f}, rfm_m = ${m} WHERE rowid IN (${page}) AND status NOT IN ('erased', 'merged')
        AND (rfm_r IS NOT ${r} OR rfm_f IS NOT ${f} OR rfm_m IS NOT ${m})`),
      db.run(sql`UPDATE members SET value_segment = ${VALUE_SEGMENT_SQL} WHERE rowid IN (${page}) AND status NOT IN ('erased', 'merged')
        AND value_segment IS NOT ${VALUE_SEGMENT_SQL}`),
    ],
    ([rfm]) => (updated += rowsAffected(rfm)),
  );
  return { ...progress, edges, updated };
}
