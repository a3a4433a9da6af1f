import { eq, type SQL, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import { addLocalMonths, localMonth, localMonthRange } from "../../domain/local-time";
import type { Principal, ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { csvCell } from "../exports/exports";

/** The most months one report spans. */
export const MAX_SETTLEMENT_MONTHS = 36;

/**
 * One partner in one month (the program's local calendar month): points issued on its sales
 * (earned on orders its keys created, net of what refunds took back) and redeemed at it
 * (debited by redemptions its keys made, net of voids and reversals), and their value at the
 * program's point cost. `balanceMinor` > 0: the partner owes the program (it handed out more
 * points than it took back); < 0: the program owes the partner.
 */
export type SettlementRow = {
  period: string;
  partner: string;
  pointsIssued: number;
  pointsRedeemed: number;
  netPoints: number;
  issuedValueMinor: number;
  redeemedValueMinor: number;
  balanceMinor: number;
  currency: string;
};

const SETTLEMENT_COLUMNS: readonly (keyof SettlementRow)[] = [
  "period",
  "partner",
  "pointsIssued",
  "pointsRedeemed",
  "netPoints",
  "issuedValueMinor",
  "redeemedValueMinor",
  "balanceMinor",
  "currency",
];

export type SettlementQuery = { from?: string; to?: string; partner?: string };

/**
 * The partner a caller may report on: an admin (or staff) any, or all when none is named; a
 * partner key only its own, whatever it asks for — naming another partner is 403.
 */
function partnerScope(principal: Principal, asked: string | undefined): string | null {
  if (principal.scope !== "partner") return asked ?? null;
  const own = principal.partner?.id ?? principal.keyId;
  if (asked !== undefined && asked !== own)
    throw new AppError("forbidden", "A partner key reads only its own partner's settlement; omit partner or name your own");
  return own;
}

/** `CASE WHEN at in month 1 THEN '2026-01' …`: each instant's local month, from the months' UTC bounds. */
function monthOf(column: SQL, months: Array<{ month: string; start: string; end: string }>) {
  const whens = sql.join(
    months.map((m) => sql`WHEN ${column} >= ${m.start} AND ${column} < ${m.end} THEN ${m.month}`),
    sql` `,
  );
  return sql`CASE ${whens} END`;
}

/** Per partner and month, what it issued and redeemed and what is owed; one read batch. */
export async function settlementReport(ctx: ServiceContext, principal: Principal, query: SettlementQuery) {
  const [program] = await ctx.db
    .select({ currency: programs.currency, pointCostPer1000: programs.pointCostPer1000, timeZone: programs.timeZone })
    .from(programs)
    .where(eq(programs.id, principal.programId))
    .limit(1);
  if (!program) throw notFound("Program");
  const partner = partnerScope(principal, query.partner);
  const to = query.to ?? localMonth(new Date(), program.timeZone);
  const from = query.from ?? addLocalMonths(to, -11);
  const months: Array<{ month: string; start: string; end: string }> = [];
  for (let m = from; m <= to && months.length <= MAX_SETTLEMENT_MONTHS; m = addLocalMonths(m, 1))
    months.push({ month: m, ...localMonthRange(m, program.timeZone) });
  if (from > to || months.length > MAX_SETTLEMENT_MONTHS)
    throw new AppError("invalid_request", `from must be on or before to, at most ${MAX_SETTLEMENT_MONTHS} months apart`, {
      fields: [{ path: "from", message: "after to or too far back" }],
    });
  const start = months[0].start;
  const end = months[months.length - 1].end;
  const onlyPartner = (column: SQL) => (partner === null ? sql`${column} IS NOT NULL` : sql`${column} = ${partner}`);

  const [issued, redeemed] = await ctx.db.batch([
    ctx.db.all<{ partner: string; period: string; points: number }>(sql`
      SELECT o.source_partner AS partner, ${monthOf(sql`e.created_at`, months)} AS period, SUM(e.points) AS points
      FROM ledger_entries e
      JOIN orders o ON o.program_id = e.program_id AND o.order_id = e.source_id
      WHERE e.program_id = ${principal.programId} AND e.source_type = 'order'
        AND e.created_at >= ${start} AND e.created_at < ${end} AND ${onlyPartner(sql`o.source_partner`)}
      GROUP BY 1, 2`),
    ctx.db.all<{ partner: string; period: string; points: number }>(sql`
      SELECT r.source_partner AS partner, ${monthOf(sql`e.created_at`, months)} AS period, -SUM(e.points) AS points
      FROM ledger_entries e
      JOIN redemptions r ON r.program_id = e.program_id AND r.id = e.source_id
      WHERE e.program_id = ${principal.programId} AND e.source_type = 'redemption'
        AND e.created_at >= ${start} AND e.created_at < ${end} AND ${onlyPartner(sql`r.source_partner`)}
      GROUP BY 1, 2`),
  ]);

  const value = (points: number) => Math.round((points * program.pointCostPer1000) / 1000);
  const rows = new Map<string, SettlementRow>();
  const rowOf = (p: string, period: string) => {
    const key = `${period}\u0000${p}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        period,
        partner: p,
        pointsIssued: 0,
        pointsRedeemed: 0,
        netPoints: 0,
        issuedValueMinor: 0,
        redeemedValueMinor: 0,
        balanceMinor: 0,
        currency: program.currency,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const r of issued) rowOf(r.partner, r.period).pointsIssued += Number(r.points);
  for (const r of redeemed) rowOf(r.partner, r.period).pointsRedeemed += Number(r.points);
  const data = [...rows.values()].sort((a, b) => a.period.localeCompare(b.period) || a.partner.localeCompare(b.partner));
  for (const row of data) {
    row.netPoints = row.pointsIssued - row.pointsRedeemed;
    row.issuedValueMinor = value(row.pointsIssued);
    row.redeemedValueMinor = value(row.pointsRedeemed);
    row.balanceMinor = row.issuedValueMinor - row.redeemedValueMinor;
  }
  return {
    from,
    to,
    timeZone: program.timeZone,
    currency: program.currency,
    pointCostPer1000: program.pointCostPer1000,
    partner,
    data,
  };
}

/** The report's rows as CSV (a header row, cells guarded against formula injection) or NDJSON. */
export function serialiseSettlement(rows: readonly SettlementRow[], format: "csv" | "ndjson"): string {
  if (format === "ndjson") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  const lines = [SETTLEMENT_COLUMNS.join(","), ...rows.map((r) => SETTLEMENT_COLUMNS.map((c) => csvCell(r[c])).join(","))];
  return `${lines.join("\r\n")}\r\n`;
}
