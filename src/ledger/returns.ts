import { and, eq, sql } from "drizzle-orm";
import { ledgerEntries, lotAllocations, pointLots } from "../../schema";
import { byExpiry, type LotForAllocation } from "./lots";
import { allocationRows, type EntryView, effectiveLotExpiry, entry, outbox, type Statement, type WriteScope } from "./state";

/** A lot a debit took points from, and how many of them are still out (taken net of returns). */
export type OutstandingLot = LotForAllocation & { out: number };

/**
 * What the debits of one source still hold of each lot, from lot_allocations: the rows of the
 * entries matching `where` (the debit and any returns made for it since), summed per lot.
 */
export async function outstandingLots(scope: WriteScope, where: ReturnType<typeof and>): Promise<OutstandingLot[]> {
  const rows = await scope.db
    .select({
      id: pointLots.id,
      remaining: pointLots.remaining,
      released: pointLots.released,
      expiresAt: effectiveLotExpiry,
      orderId: pointLots.orderId,
      out: sql<number>`SUM(${lotAllocations.points})`,
    })
    .from(lotAllocations)
    .innerJoin(ledgerEntries, eq(ledgerEntries.id, lotAllocations.entryId))
    .innerJoin(pointLots, eq(pointLots.id, lotAllocations.lotId))
    .where(and(eq(ledgerEntries.programId, scope.programId), eq(ledgerEntries.memberId, scope.memberId), where))
    .groupBy(pointLots.id);
  return rows.map((r) => ({ ...r, out: Number(r.out) })).filter((r) => r.out > 0);
}

/**
 * Give `points` back to the lots they came from, with their original expiry: the latest to
 * expire first (what a smaller redemption would not have taken). Points whose lot has expired
 * meanwhile are not returned (they would have expired with it): `lapsed` says how many. One
 * `return` entry with negative lot_allocations rows and a `points.returned` event; the CHECK
 * (remaining <= points) is the database's guard against returning more than a lot gave.
 */
export function returnToLots(
  scope: WriteScope,
  lots: OutstandingLot[],
  points: number,
  e: { reason: string; sourceType: string; sourceId: string },
): { returned: number; lapsed: number; entry: EntryView | null; statements: Statement[] } {
  let left = points;
  const gives: Array<{ lotId: string; points: number }> = [];
  let lapsed = 0;
  for (const lot of [...lots].sort(byExpiry).reverse()) {
    if (left <= 0) break;
    const give = Math.min(lot.out, left);
    left -= give;
    if (lot.expiresAt !== null && lot.expiresAt <= scope.now) lapsed += give;
    else gives.push({ lotId: lot.id, points: give });
  }
  const returned = gives.reduce((s, g) => s + g.points, 0);
  if (returned === 0) return { returned, lapsed, entry: null, statements: [] };
  const r = entry(scope, { type: "return", points: returned, ...e });
  return {
    returned,
    lapsed,
    entry: r.view,
    statements: [
      r.statement,
      ...gives.map(
        (g) =>
          scope.db
            .update(pointLots)
            .set({ remaining: sql`${pointLots.remaining} + ${g.points}` })
            .where(eq(pointLots.id, g.lotId)) as Statement,
      ),
      ...allocationRows(
        scope,
        r.row.id,
        gives.map((g) => ({ lotId: g.lotId, points: -g.points })),
      ),
      outbox(scope, "points.returned", {
        points: returned,
        lapsed,
        reason: e.reason,
        sourceType: e.sourceType,
        sourceId: e.sourceId,
        entryId: r.row.id,
      }),
    ],
  };
}
