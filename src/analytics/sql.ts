import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import type { SqlFragment } from "../domain/segments/rule";

export type Statement = BatchItem<"sqlite">;

/**
 * Members whose rowid is in [from, to) (to null: to the end of the table): one shard of a
 * fanned-out job (src/jobs/), in storage order.
 */
export type RowidRange = { from: number; to: number | null };

/**
 * Bounds for a sweep: members per page and pages per run, so one run stays within a Worker's
 * limits, and optionally the shard of the program's members it covers (default: all of them).
 */
export type PageLimits = { batchSize: number; maxPages: number; range?: RowidRange };

/** The cursor a sweep of `range` starts after. */
export const rangeStart = (range: RowidRange | undefined) => (range ? range.from - 1 : 0);
/** `AND rowid < to` for a bounded range, nothing otherwise. */
export const rangeEnd = (range: RowidRange | undefined, column = "rowid") =>
  range?.to != null ? sql` AND ${sql.raw(column)} < ${range.to}` : sql``;
export type SweepProgress = { pages: number; members: number; complete: boolean };

/** Whole days from a timestamp column to `now`, counted like `wholeDaysBetween` (NULL stays NULL). */
/**
 * The column a member's recency is measured from: the last purchase, or (when the program counts
 * activities) the later of the last purchase and the last reported activity.
 */
export const lastEngagedColumn = (recency: "purchases" | "activities") =>
  recency === "activities" ? "NULLIF(MAX(COALESCE(last_purchase_at, ''), COALESCE(last_activity_at, '')), '')" : "last_purchase_at";

export const wholeDaysSince = (column: string, now: string) => sql`MAX(0, (unixepoch(${now}) - unixepoch(${sql.raw(column)})) / 86400)`;

/**
 * One page of a program's members in storage (rowid) order: the unit every analytics sweep
 * works in. Member ids are time-sortable and bulk imports date them by join date while rows are
 * stored in import order, so an id-ordered page scatters over the whole table; a rowid-ordered
 * page is a few adjacent table pages. Served by `members_program_idx` (program_id, +rowid): a
 * range scan, no sort.
 */
const memberPage = (programId: string, afterRowid: number, limit: number, range: RowidRange | undefined) =>
  sql`SELECT rowid FROM members WHERE program_id = ${programId} AND rowid > ${afterRowid}${rangeEnd(range)} ORDER BY rowid LIMIT ${limit}`;

/**
 * Walk a program's members page by page; each page runs as ONE batch: the page's bounds
 * first, then `statementsFor(page)` (which select their rows with `rowid IN (page)`). Returns
 * the per-page results of those statements' first one via `onPage`.
 *
 * The rowid cursor lives only within one invocation (every sweep starts from the beginning),
 * so a VACUUM renumbering rowids between nights does not matter. One during a sweep could at
 * worst make it recompute a member twice or skip one until the next night; every sweep's
 * writes are idempotent recomputations from the same inputs, so both are harmless.
 */
export async function sweepMemberPages(
  db: Database,
  programId: string,
  limits: PageLimits,
  statementsFor: (page: SQL) => Statement[],
  onPage: (results: unknown[]) => void = () => {},
): Promise<SweepProgress> {
  let after = rangeStart(limits.range);
  let members = 0;
  for (let pages = 0; pages < limits.maxPages; ) {
    const page = memberPage(programId, after, limits.batchSize, limits.range);
    const bounds = db.all<{ last: number | null; n: number }>(sql`SELECT MAX(rowid) AS last, COUNT(*) AS n FROM (${page})`);
    const [rows, ...results] = (await retryOnce(() => db.batch([bounds, ...statementsFor(page)]))) as [
      Array<{ last: number | null; n: number }>,
      ...unknown[],
    ];
    pages++;
    const n = Number(rows[0]?.n ?? 0);
    members += n;
    onPage(results);
    if (n < limits.batchSize || rows[0]?.last == null) return { pages, members, complete: true };
    after = Number(rows[0].last);
  }
  return { pages: limits.maxPages, members, complete: false };
}

const isTransient = (err: unknown) => {
  for (
    let e = err as { cause?: unknown; message?: string; retryable?: boolean } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.retryable === true || /Network connection lost/i.test(String(e.message))) return true;
  }
  return false;
};

/**
 * Run a query, once more if the connection dropped (e.g. a pooled keep-alive connection the
 * server closed while the Worker was busy fitting). Only for idempotent statements — every
 * analytics write is: it sets values computed from the same inputs.
 */
export async function retryOnce<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isTransient(err)) throw err;
    return run();
  }
}

/** Rows affected by a `db.run` result inside a batch. */
export const rowsAffected = (result: unknown) => Number((result as { rowsAffected?: number | bigint })?.rowsAffected ?? 0);

/**
 * A `{ sql, args }` fragment (segment rules compile to these) as a drizzle SQL chunk. Placeholders
 * are the `?` outside single-quoted string literals: rule compilation inlines JSON paths as
 * literals, and an attribute key may itself contain a `?`.
 */
export function fragmentSql(fragment: SqlFragment): SQL {
  const chunks: string[] = [];
  let current = "";
  let inString = false;
  for (const ch of fragment.sql) {
    if (ch === "'") inString = !inString; // a doubled '' toggles twice: still inside
    if (ch === "?" && !inString) {
      chunks.push(current);
      current = "";
    } else current += ch;
  }
  chunks.push(current);
  if (chunks.length !== fragment.args.length + 1) {
    throw new Error(`SQL fragment has ${chunks.length - 1} placeholders for ${fragment.args.length} arguments`);
  }
  const out = sql.empty();
  chunks.forEach((chunk, i) => {
    out.append(sql.raw(chunk));
    if (i < fragment.args.length) out.append(sql`${fragment.args[i]}`);
  });
  return out;
}
