// A mixed ledger workload and the invariants it must keep, checked straight in the database:
// shared by test/api/reliability.test.ts (in workerd) and the stress runs (Node, against a local stack).
import { sql } from "drizzle-orm";
import { apiKeys } from "../../schema";
import type { Database } from "../../src/db/client";
import { mintKey } from "../../src/services/access/programs";

/**
 * Violations of the ledger's invariants in a program; all zero when it is consistent: balance =
 * Σ ledger points = Σ lots, debt = Σ ledger debt, pending = Σ held lots, every lot's consumption
 * recorded in lot_allocations, and every debit allocated to lots for exactly its points (but in
 * programs that allow a negative balance, where a debit may go past the lots).
 */
export async function ledgerViolations(db: Database, programId: string) {
  const [row] = await db.all<Record<string, number>>(sql`SELECT
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_balance <> (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e WHERE e.member_id = m.id)) AS balanceNotLedger,
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_balance <> (SELECT COALESCE(SUM(remaining), 0) FROM point_lots l WHERE l.member_id = m.id)) AS balanceNotLots,
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_pending <> (SELECT COALESCE(SUM(remaining), 0) FROM point_lots l WHERE l.member_id = m.id AND l.released = 0)) AS pendingNotHeldLots,
    (SELECT COUNT(*) FROM members WHERE program_id = ${programId} AND (points_balance < 0 OR points_pending < 0 OR points_debt < 0)) AS negative,
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_debt <> (SELECT COALESCE(SUM(debt), 0) FROM ledger_entries e WHERE e.member_id = m.id)) AS debtNotLedger,
    (SELECT COUNT(*) FROM point_lots l WHERE l.program_id = ${programId}
       AND l.points - l.remaining <> (SELECT COALESCE(SUM(a.points), 0) FROM lot_allocations a WHERE a.lot_id = l.id)) AS lotNotAllocations,
    (SELECT COUNT(*) FROM ledger_entries e WHERE e.program_id = ${programId} AND e.points < 0
       AND (SELECT allow_negative_balance FROM programs p WHERE p.id = e.program_id) = 0
       AND -e.points <> (SELECT COALESCE(SUM(a.points), 0) FROM lot_allocations a WHERE a.entry_id = e.id)) AS debitNotAllocations,
    (SELECT COUNT(*) FROM point_lots l WHERE l.program_id = ${programId} AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = l.entry_id)) AS orphanLots,
    (SELECT COUNT(*) FROM ledger_entries e WHERE e.program_id = ${programId} AND e.request_key NOT LIKE 'expire:%'
       AND NOT EXISTS (SELECT 1 FROM ledger_requests r WHERE r.program_id = e.program_id AND r.idempotency_key = e.request_key)) AS unrecordedEntries,
    (SELECT COUNT(*) FROM outbox_events o WHERE o.program_id = ${programId} AND json_extract(o.payload, '$.entryId') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = json_extract(o.payload, '$.entryId'))) AS orphanEvents,
    (SELECT COUNT(*) FROM (SELECT 1 FROM outbox_events WHERE program_id = ${programId} AND type = 'order.accrued'
       GROUP BY json_extract(payload, '$.orderId') HAVING COUNT(*) > 1)) AS duplicateOrderEvents,
    (SELECT COUNT(*) FROM (SELECT 1 FROM ledger_entries WHERE program_id = ${programId} AND type = 'expire' GROUP BY source_id HAVING COUNT(*) > 1)) AS duplicateExpiries`);
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

/** How many ledger_requests rows and entries each idempotency key has. */
async function recordsPerKey(db: Database, programId: string, keys: string[]) {
  const requests = new Map<string, number>();
  const entries = new Map<string, number>();
  for (let i = 0; i < keys.length; i += 400) {
    const slice = keys.slice(i, i + 400);
    const list = sql.join(
      slice.map((k) => sql`${k}`),
      sql`, `,
    );
    for (const r of await db.all<{ k: string; n: number }>(
      sql`SELECT idempotency_key AS k, COUNT(*) AS n FROM ledger_requests WHERE program_id = ${programId} AND idempotency_key IN (${list}) GROUP BY k`,
    ))
      requests.set(r.k, Number(r.n));
    for (const r of await db.all<{ k: string; n: number }>(
      sql`SELECT request_key AS k, COUNT(*) AS n FROM ledger_entries WHERE program_id = ${programId} AND request_key IN (${list}) GROUP BY k`,
    ))
      entries.set(r.k, Number(r.n));
  }
  return { requests, entries };
}

/** Extra high-limit keys so the workload is spread over several, as over a shop's POS terminals. */
export async function extraKeys(db: Database, programId: string, scope: "storefront" | "admin", count: number) {
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const { secret, row } = await mintKey(programId, scope, `stress ${scope} ${i}`);
    await db.insert(apiKeys).values({ ...row, rateLimitPerMinute: 100_000_000 });
    secrets.push(secret);
  }
  return secrets;
}

export type Op = {
  kind: "accrue" | "redeem" | "refund" | "adjust";
  memberId: string;
  key: string;
  path: string;
  body: Record<string, unknown>;
  auth: "storefront" | "admin";
};

/** Mixed writes: accruals (some later refunded), redemptions, credits and debits. */
export function mixedOps(memberIds: string[], count: number, orderIds: Map<string, string[]>, uniqueKey: (label: string) => string): Op[] {
  return Array.from({ length: count }, (_, i): Op => {
    const memberId = memberIds[i % memberIds.length];
    const key = uniqueKey(`mix${i}`);
    switch (i % 8) {
      case 0:
      case 1:
      case 2: {
        const orderId = uniqueKey("ord");
        return {
          kind: "accrue",
          memberId,
          key,
          path: `/v1/members/${memberId}/accruals`,
          body: { orderId, amount: 1_000 + (i % 7) * 500, currency: "USD" },
          auth: "storefront",
        };
      }
      case 3:
      case 4:
        return {
          kind: "redeem",
          memberId,
          key,
          path: `/v1/members/${memberId}/redemptions`,
          body: { points: 5 + (i % 11), reason: "checkout" },
          auth: "storefront",
        };
      case 5: {
        const orders = orderIds.get(memberId) ?? [];
        const orderId = orders[i % Math.max(1, orders.length)];
        return {
          kind: "refund",
          memberId,
          key,
          path: `/v1/orders/${orderId}/refunds`,
          body: { amount: 300 + (i % 3) * 100 },
          auth: "storefront",
        };
      }
      case 6:
        return {
          kind: "adjust",
          memberId,
          key,
          path: `/v1/members/${memberId}/adjustments`,
          body: { points: 7 + (i % 5), reason: "goodwill" },
          auth: "admin",
        };
      default:
        return {
          kind: "adjust",
          memberId,
          key,
          path: `/v1/members/${memberId}/adjustments`,
          body: { points: -(3 + (i % 4)), reason: "correction" },
          auth: "admin",
        };
    }
  });
}

export type Outcome = { op: Op; status: number; body: any };

/** A refusal the ledger may give under contention: not enough points, a lost race (retry), refund above the order. */
export const isExpectedRefusal = (status: number, body: any) =>
  status === 409 && ["insufficient_points", "conflict", "refund_exceeds_order"].includes(body?.error?.code);

/** Keys not applied exactly once: a success must be recorded once with exactly the entries it answered, a failure not at all. */
export async function keyProblems(db: Database, programId: string, outcomes: Outcome[]): Promise<string[]> {
  const { requests, entries } = await recordsPerKey(
    db,
    programId,
    outcomes.map((o) => o.op.key),
  );
  const problems: string[] = [];
  for (const { op, status, body } of outcomes) {
    const recorded = requests.get(op.key) ?? 0;
    const written = entries.get(op.key) ?? 0;
    if (status === 201 && (recorded !== 1 || written !== body.entries.length))
      problems.push(`${op.kind} ${op.key}: 201 but ${recorded} records, ${written} entries (answered ${body.entries.length})`);
    if (status !== 201 && (recorded !== 0 || written !== 0))
      problems.push(`${op.kind} ${op.key}: ${status} but ${recorded} records, ${written} entries`);
  }
  return problems;
}
