import { type SQL, sql } from "drizzle-orm";
import type { CustomerSummary } from "../domain/models";

// Purchase summaries for BG/NBD and Gamma-Gamma, set-based over `orders`, in days.
// A purchase is a calendar day (UTC) with at least one order that is not fully refunded,
// valued net of refunds (amount − refunded_amount), as lifetimes' summary_data_from_transaction_data
// does with freq "D": several orders on one day are one purchase.
//   x    = purchase days − 1 (repeat purchases)
//   t_x  = days from the first purchase day to the last
//   T    = days from the first purchase day to today
//   mBar = mean value of the repeat purchase days (0 when x = 0), minor units

export type SummaryRow = CustomerSummary & { memberId: string; purchaseDays: number };

/**
 * Summaries for every member the `scope` query selects (it yields an `id` column and may carry
 * more columns, returned as they are); members without a counted purchase come back with
 * purchaseDays = 0. Orders after `now` are ignored.
 */
export function purchaseSummariesSql(programId: string, now: string, scope: SQL): SQL {
  return sql`
    WITH scope AS (${scope}),
    purchase_days AS (
      SELECT o.member_id, julianday(substr(o.occurred_at, 1, 10)) AS day, SUM(o.amount - o.refunded_amount) AS value
      FROM orders o
      WHERE o.program_id = ${programId} AND o.member_id IN (SELECT id FROM scope)
        AND o.amount > o.refunded_amount AND o.occurred_at <= ${now}
      GROUP BY o.member_id, day
    ),
    ranked AS (
      SELECT member_id, day, value, ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY day) AS k FROM purchase_days
    )
    SELECT s.*, COUNT(r.day) AS purchase_days,
      COALESCE(MAX(r.day) - MIN(r.day), 0) AS t_x,
      COALESCE(julianday(substr(${now}, 1, 10)) - MIN(r.day), 0) AS age,
      COALESCE(SUM(CASE WHEN r.k > 1 THEN r.value END), 0) AS repeat_value
    FROM scope s LEFT JOIN ranked r ON r.member_id = s.id
    GROUP BY s.id ORDER BY s.id`;
}

export type RawSummary = { id: string; purchase_days: number; t_x: number; age: number; repeat_value: number };

export function toSummary(raw: RawSummary): SummaryRow {
  const purchaseDays = Number(raw.purchase_days);
  const x = Math.max(0, purchaseDays - 1);
  return {
    memberId: raw.id,
    purchaseDays,
    x,
    t_x: x === 0 ? 0 : Number(raw.t_x),
    T: Math.max(0, Number(raw.age)),
    mBar: x === 0 ? 0 : Number(raw.repeat_value) / x,
  };
}

/** Purchasers of a program (members with at least one counted order up to `now`). */
export function purchasersSql(programId: string, now: string): SQL {
  return sql`SELECT member_id AS id FROM orders
    WHERE program_id = ${programId} AND amount > refunded_amount AND occurred_at <= ${now}
    GROUP BY member_id`;
}
