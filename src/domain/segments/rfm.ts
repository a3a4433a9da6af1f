// RFM scores: 1–5 per dimension by quintiles within a program.
//   R (recency)   days since the last purchase — fewer days scores higher
//   F (frequency) number of orders             — more scores higher
//   M (monetary)  total spend, minor units     — more scores higher
//
// How edges are drawn (by value, never by rank position, so ties always share a score):
//   1. Sort the program's purchasers' values and cut them into five tiles exactly as SQL's
//      NTILE(5) OVER (ORDER BY v) does (the first n mod 5 tiles get one extra row).
//   2. Each edge sits halfway between the largest value of a tile and the smallest of the
//      next one. For n ≥ 5 there are four edges, one per tile boundary.
//   3. A value scores 1 + the number of edges it is strictly better than (above for F/M,
//      below for R). With distinct values that is exactly the NTILE tile (reversed for R).
//
// Ties and skew: when a tied block straddles a tile boundary the edge equals the tied value,
// and nobody is strictly better than an edge equal to themselves, so the whole block gets
// the lowest score it covers. In a program where 70 % of members bought once, all one-time
// buyers get F = 1 and repeat buyers share F = 4–5: classes are unequal by design, because
// a tie cannot be split fairly and "bought once" is not above-average behaviour. All-equal
// values give everyone 1 (nobody is better than anyone).
// Fewer than 5 purchasers (n = 2..4): each value is its own tile and scores are spread over
// 1..5 (two members score 1 and 5, three score 1, 3, 5). One purchaser scores 1. With no
// purchasers there are no edges and every value scores 1.
//
// Members with no purchase get R = F = M = 1 and are left out of the edge computation, so a
// crowd of never-purchased sign-ups does not push one-time buyers up the frequency scale.
//
// At scale the cron computes tile bounds once per program in SQL (over all purchasers or a
// random sample) and scores members in batches with `scoreWithEdges`:
//   SELECT tile, MIN(v) AS min, MAX(v) AS max FROM (
//     SELECT v, NTILE(5) OVER (ORDER BY v) AS tile FROM (
//       SELECT orders_count AS v FROM members WHERE program_id = ? AND orders_count > 0))
//   GROUP BY tile ORDER BY tile;
// then `quintileEdgesFromTiles(rows)`.

export type RfmDimensionScore = 1 | 2 | 3 | 4 | 5;

/** Per-dimension scores; `score` is r + f + m (3–15), handy for "rfm.score ≥ 12" rules. */
export type RfmScore = { r: RfmDimensionScore; f: RfmDimensionScore; m: RfmDimensionScore; score: number };

/** Ascending quintile edges for one dimension: four numbers, or none when there is no data. */
export type QuintileEdges = readonly number[];

/** Edges for the three dimensions of one program, computed over its purchasers. */
export type RfmEdges = { recency: QuintileEdges; frequency: QuintileEdges; monetary: QuintileEdges };

/** Bounds of one NTILE tile, as `GROUP BY tile` returns them. */
export type TileBounds = { min: number; max: number };

export type RfmInput = {
  /** Days since the last purchase; null/undefined = never purchased. */
  recencyDays: number | null | undefined;
  /** Orders in the scoring window. */
  frequency: number;
  /** Spend in the scoring window, minor units. */
  monetary: number;
};

/** Tiles of ascending `sorted` exactly as SQL NTILE(5) cuts them. */
function ntileBounds(sorted: readonly number[], tiles = 5): TileBounds[] {
  const n = sorted.length;
  const base = Math.floor(n / tiles);
  const extra = n % tiles;
  const bounds: TileBounds[] = [];
  let start = 0;
  for (let k = 0; k < tiles && start < n; k++) {
    const size = base + (k < extra ? 1 : 0);
    bounds.push({ min: sorted[start], max: sorted[start + size - 1] });
    start += size;
  }
  return bounds;
}

/**
 * Four ascending edges from NTILE(5) tile bounds (ordered by tile). Fewer than five tiles
 * (fewer than five purchasers) spread the scores over 1..5; see the file comment.
 */
export function quintileEdgesFromTiles(tiles: readonly TileBounds[]): number[] {
  if (tiles.length === 0) return [];
  if (tiles.length > 5) throw new RangeError(`expected at most 5 tiles, got ${tiles.length}`);
  tiles.forEach((tile, i) => {
    const ordered = tile.min <= tile.max && (i === 0 || tiles[i - 1].max <= tile.min);
    if (!ordered) throw new RangeError("tiles must be ordered by value (min ≤ max, each tile above the previous)");
  });
  if (tiles.length === 1) {
    // No boundary to sit between: everyone inside the tile is tied at the bottom, anything
    // above it (a member scored later than the sample) beats all four edges.
    return [tiles[0].max, tiles[0].max, tiles[0].max, tiles[0].max];
  }
  const boundaries = tiles.slice(1).map((tile, i) => (tiles[i].max + tile.min) / 2);
  // Tile t (0-based) of k should have round(t·4/(k−1)) edges below it (and so score one more);
  // each boundary is repeated by how far it moves that count. For k = 5 each is used once.
  const k = tiles.length;
  const edgesBelow = (t: number) => Math.round((t * 4) / (k - 1));
  const edges: number[] = [];
  boundaries.forEach((edge, i) => {
    for (let c = edgesBelow(i); c < edgesBelow(i + 1); c++) edges.push(edge);
  });
  return edges;
}

/** Quintile edges of one dimension from raw values (non-finite values are ignored). */
export function rfmQuintileEdges(values: readonly number[]): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return quintileEdgesFromTiles(ntileBounds(sorted));
}

/**
 * Score 1–5 of one value against one dimension's edges: 1 + the number of edges the value
 * is strictly better than. Non-decreasing in `value` when higherIsBetter, non-increasing
 * otherwise. A value that is not a finite number scores 1.
 */
export function scoreWithEdges(value: number, edges: QuintileEdges, higherIsBetter: boolean): RfmDimensionScore {
  if (edges.length > 4) throw new RangeError(`expected at most 4 quintile edges, got ${edges.length}`);
  let beaten = 0;
  for (let i = 0; i < edges.length; i++) {
    if (i > 0 && !(edges[i - 1] <= edges[i])) throw new RangeError("quintile edges must be ascending");
    if (higherIsBetter ? value > edges[i] : value < edges[i]) beaten++;
  }
  return (1 + beaten) as RfmDimensionScore;
}

const hasPurchased = (m: RfmInput) => m.recencyDays !== null && m.recencyDays !== undefined && m.frequency > 0;

/** Edges for R, F and M over a program's purchasers (everyone else scores 1 anyway). */
export function rfmEdges(members: readonly RfmInput[]): RfmEdges {
  const purchasers = members.filter(hasPurchased);
  return {
    recency: rfmQuintileEdges(purchasers.map((m) => m.recencyDays as number)),
    frequency: rfmQuintileEdges(purchasers.map((m) => m.frequency)),
    monetary: rfmQuintileEdges(purchasers.map((m) => m.monetary)),
  };
}

/** A member's RFM against the program's edges. Never purchased → R = F = M = 1. */
export function rfmScore(member: RfmInput, edges: RfmEdges): RfmScore {
  if (!hasPurchased(member)) return { r: 1, f: 1, m: 1, score: 3 };
  const r = scoreWithEdges(member.recencyDays as number, edges.recency, false);
  const f = scoreWithEdges(member.frequency, edges.frequency, true);
  const m = scoreWithEdges(member.monetary, edges.monetary, true);
  return { r, f, m, score: r + f + m };
}
