/** A lot as the ledger needs it to allocate consumption. */
export type LotForAllocation = { id: string; remaining: number; released: number; expiresAt: string | null; orderId: string | null };
export type LotTake = { lotId: string; points: number; pending: boolean };

/** Order lots for spending: first to expire first, never-expiring last, then oldest. */
export function byExpiry(a: LotForAllocation, b: LotForAllocation): number {
  if (a.expiresAt !== b.expiresAt) {
    if (a.expiresAt === null) return 1;
    if (b.expiresAt === null) return -1;
    return a.expiresAt < b.expiresAt ? -1 : 1;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Take `points` from lots in the given order; returns the takes and what could not be covered. */
export function allocate(lots: LotForAllocation[], points: number): { takes: LotTake[]; shortfall: number } {
  const takes: LotTake[] = [];
  let left = points;
  for (const lot of lots) {
    if (left <= 0) break;
    const take = Math.min(lot.remaining, left);
    if (take <= 0) continue;
    takes.push({ lotId: lot.id, points: take, pending: lot.released === 0 });
    left -= take;
  }
  return { takes, shortfall: left };
}

export const pendingTaken = (takes: LotTake[]) => takes.reduce((s, t) => s + (t.pending ? t.points : 0), 0);
