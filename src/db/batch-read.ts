import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { Database } from "./client";

type Query = BatchItem<"sqlite">;

/**
 * A read that can share one `db.batch` with other reads: its queries, and how to turn their
 * results into a value. Loaders expose these so a caller can put the reads of several
 * features into ONE round trip to libSQL instead of one request each.
 */
export type BatchRead<T> = { queries: readonly Query[]; parse: (results: unknown[]) => T };

export function batchRead<const Q extends readonly Query[], T>(queries: Q, parse: (results: BatchResponse<Q>) => T): BatchRead<T> {
  return { queries, parse: parse as unknown as (results: unknown[]) => T };
}

type Values<R extends readonly BatchRead<unknown>[]> = { -readonly [K in keyof R]: R[K] extends BatchRead<infer T> ? T : never };

/** Every read's raw results from ONE libSQL batch (one round trip, one snapshot), per read. */
export async function fetchTogether(db: Database, reads: readonly BatchRead<unknown>[]): Promise<unknown[][]> {
  const queries = reads.flatMap((r) => r.queries);
  const results: unknown[] = queries.length > 0 ? await db.batch(queries as unknown as [Query, ...Query[]]) : [];
  const lengths = reads.map((r) => r.queries.length);
  return consecutiveSlices(results, lengths);
}

/** `items` cut into consecutive slices of the given lengths. */
function consecutiveSlices<T>(items: T[], lengths: number[]): T[][] {
  let at = 0;
  return lengths.map((length) => {
    const slice = items.slice(at, at + length);
    at += length;
    return slice;
  });
}

/** Every read in ONE round trip, parsed, in the order given. */
export async function readTogether<const R extends readonly BatchRead<unknown>[]>(db: Database, reads: R): Promise<Values<R>> {
  const raw = await fetchTogether(db, reads);
  return reads.map((r, i) => r.parse(raw[i])) as Values<R>;
}

/** Several reads as one (their queries side by side), parsed into an object of their values. */
export function combineReads<const R extends Record<string, BatchRead<unknown>>>(
  reads: R,
): BatchRead<{ [K in keyof R]: R[K] extends BatchRead<infer T> ? T : never }> {
  const entries = Object.entries(reads);
  return {
    queries: entries.flatMap(([, r]) => r.queries),
    parse: (results) => {
      const lengths = entries.map(([, r]) => r.queries.length);
      const parts = consecutiveSlices(results, lengths);
      return Object.fromEntries(entries.map(([key, r], i) => [key, r.parse(parts[i])])) as never;
    },
  };
}

/** The same queries, their value transformed. */
export function mapRead<A, B>(read: BatchRead<A>, transform: (value: A) => B): BatchRead<B> {
  return { queries: read.queries, parse: (results) => transform(read.parse(results)) };
}
