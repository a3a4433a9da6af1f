import { and, eq, type SQL, sql } from "drizzle-orm";
import { segments } from "../../../schema";
import type { Database } from "../../db/client";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";

export const EXPORT_KINDS = ["members", "ledger", "orders", "segment-members", "kpis"] as const;
type ExportKind = (typeof EXPORT_KINDS)[number];
type ExportFormat = "ndjson" | "csv";

type Row = Record<string, unknown>;
/** Where a page ends: the sort key of its last row. */
type Key = [string, string];

/**
 * One export: its columns (API names → SQL expressions over the table aliased `t`), the
 * program filter, the `updatedSince` column and the two-part sort key that pages it (an
 * index serves each: members (program, updated_at, id), ledger (program, created_at),
 * orders (program, created_at, id), segment members (segment, member), KPIs (program, day)).
 */
type ExportSpec = {
  from: string;
  columns: Record<string, string>;
  /** JSON-valued columns, parsed for NDJSON and kept as JSON text in CSV. */
  json?: string[];
  where: (scope: { programId: string; segmentId?: string }) => SQL;
  since: string;
  key: [string, string];
};

const specs: Record<ExportKind, ExportSpec> = {
  members: {
    from: "members t",
    columns: {
      id: "t.id",
      externalId: "t.external_id",
      status: "t.status",
      email: "t.email",
      phone: "t.phone",
      name: "t.name",
      birthday: "t.birthday",
      attributes: "t.attributes",
      tags: "t.tags",
      consent: "t.consent",
      referralCode: "t.referral_code",
      referredBy: "t.referred_by",
      acquisitionChannel: "t.acquisition_channel",
      pointsBalance: "t.points_balance",
      pointsPending: "t.points_pending",
      lifetimeEarned: "t.lifetime_earned",
      lifetimeRedeemed: "t.lifetime_redeemed",
      lifetimeSpend: "t.lifetime_spend",
      ordersCount: "t.orders_count",
      firstPurchaseAt: "t.first_purchase_at",
      lastPurchaseAt: "t.last_purchase_at",
      tierId: "t.tier_id",
      tierSecuredUntil: "t.tier_secured_until",
      stage: "t.stage",
      rfmR: "t.rfm_r",
      rfmF: "t.rfm_f",
      rfmM: "t.rfm_m",
      valueSegment: "t.value_segment",
      churnProbability: "t.churn_probability",
      clv12m: "t.clv_12m",
      createdAt: "t.created_at",
      updatedAt: "t.updated_at",
    },
    json: ["attributes", "tags", "consent"],
    where: ({ programId }) => sql`t.program_id = ${programId}`,
    since: "t.updated_at",
    key: ["t.updated_at", "t.id"],
  },
  ledger: {
    from: "ledger_entries t",
    columns: {
      id: "t.id",
      memberId: "t.member_id",
      type: "t.type",
      points: "t.points",
      reason: "t.reason",
      sourceType: "t.source_type",
      sourceId: "t.source_id",
      ruleId: "t.rule_id",
      createdAt: "t.created_at",
    },
    where: ({ programId }) => sql`t.program_id = ${programId}`,
    since: "t.created_at",
    key: ["t.created_at", "t.id"],
  },
  orders: {
    from: "orders t",
    columns: {
      id: "t.id",
      orderId: "t.order_id",
      memberId: "t.member_id",
      amount: "t.amount",
      currency: "t.currency",
      refundedAmount: "t.refunded_amount",
      pointsEarned: "t.points_earned",
      pointsReversed: "t.points_reversed",
      channel: "t.channel",
      storeId: "t.store_id",
      items: "t.items",
      occurredAt: "t.occurred_at",
      createdAt: "t.created_at",
    },
    json: ["items"],
    where: ({ programId }) => sql`t.program_id = ${programId}`,
    since: "t.created_at",
    key: ["t.created_at", "t.id"],
  },
  "segment-members": {
    from: "segment_members t",
    columns: { segmentId: "t.segment_id", memberId: "t.member_id", addedAt: "t.added_at" },
    where: ({ programId, segmentId }) => sql`t.segment_id = ${segmentId ?? ""} AND t.program_id = ${programId}`,
    since: "t.added_at",
    key: ["t.segment_id", "t.member_id"],
  },
  kpis: {
    from: "kpi_snapshots t",
    columns: {
      day: "t.day",
      timeZone: "t.time_zone",
      startsAt: "t.starts_at",
      endsAt: "t.ends_at",
      figures: "t.figures",
      createdAt: "t.created_at",
    },
    json: ["figures"],
    where: ({ programId }) => sql`t.program_id = ${programId}`,
    since: "t.created_at",
    key: ["t.program_id", "t.day"],
  },
};

const encodeCursor = (key: Key) => btoa(JSON.stringify(key)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function decodeCursor(cursor: string): Key {
  try {
    const key = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))) as unknown;
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === "string")) return key as Key;
  } catch {
    // falls through to the 400 below
  }
  throw new AppError("invalid_request", "Invalid cursor", { fields: [{ path: "cursor", message: "not a cursor this export issued" }] });
}

export type ExportQuery = {
  programId: string;
  kind: ExportKind;
  format: ExportFormat;
  /** Rows in this response (at most); the next response continues from `nextCursor`. */
  limit: number;
  cursor?: string;
  updatedSince?: string;
  segmentId?: string;
};

/** Rows read per database round trip while streaming: what memory holds at once. */
const READ_PAGE = 500;

function pageSql(spec: ExportSpec, q: ExportQuery, after: Key | null, upTo: Key | null, limit: number, offset = 0, keysOnly = false) {
  const [k1, k2] = spec.key.map((c) => sql.raw(c));
  const conditions: SQL[] = [spec.where(q)];
  if (q.updatedSince) conditions.push(sql`${sql.raw(spec.since)} >= ${q.updatedSince}`);
  if (after) conditions.push(sql`(${k1} > ${after[0]} OR (${k1} = ${after[0]} AND ${k2} > ${after[1]}))`);
  if (upTo) conditions.push(sql`(${k1} < ${upTo[0]} OR (${k1} = ${upTo[0]} AND ${k2} <= ${upTo[1]}))`);
  const columns = keysOnly
    ? sql`${k1} AS k1, ${k2} AS k2`
    : sql.raw(
        [
          ...Object.entries(spec.columns).map(([name, expr]) => `${expr} AS "${name}"`),
          `${spec.key[0]} AS k1`,
          `${spec.key[1]} AS k2`,
        ].join(", "),
      );
  return sql`SELECT ${columns} FROM ${sql.raw(spec.from)} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY ${k1}, ${k2} LIMIT ${limit} OFFSET ${offset}`;
}

/**
 * One CSV cell (RFC 4180). A text value starting with = + - @ or a tab is prefixed with ' so
 * a spreadsheet never runs it as a formula (CSV injection); numbers are written as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  let s = typeof v === "string" ? v : JSON.stringify(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function serialise(spec: ExportSpec, format: ExportFormat, row: Row): string {
  const names = Object.keys(spec.columns);
  if (format === "csv") return `${names.map((n) => csvCell(row[n])).join(",")}\r\n`;
  const out: Row = {};
  for (const n of names) {
    const v = row[n];
    out[n] = spec.json?.includes(n) && typeof v === "string" ? JSON.parse(v) : v;
  }
  return `${JSON.stringify(out)}\n`;
}

/**
 * One response of an export, streamed: rows in key order from `cursor` (or the start), at most
 * `limit`, read READ_PAGE at a time, so memory stays bounded whatever the size. The next
 * cursor is known before the first byte (one keys-only read finds where this response ends), so
 * it can go in a header; null when this response reaches the end. CSV has its header row only
 * in the first response (no cursor), so responses concatenate into one file.
 */
export async function openExport(
  ctx: ServiceContext,
  q: ExportQuery,
): Promise<{ stream: ReadableStream<Uint8Array>; nextCursor: string | null }> {
  const spec = specs[q.kind];
  if (q.kind === "segment-members") await requireSegment(ctx.db, q.programId, q.segmentId);
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  // The last row of this response and whether another follows it.
  const edge = await ctx.db.all<{ k1: string; k2: string }>(pageSql(spec, q, after, null, 2, q.limit - 1, true));
  const upTo: Key | null = edge.length === 2 ? [String(edge[0].k1), String(edge[0].k2)] : null;
  const nextCursor = upTo ? encodeCursor(upTo) : null;
  const encoder = new TextEncoder();
  let position = after;
  let started = false;
  const db = ctx.db;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (q.format === "csv" && !q.cursor) {
          controller.enqueue(encoder.encode(`${Object.keys(spec.columns).join(",")}\r\n`));
          return;
        }
      }
      const rows = await db.all<Row>(pageSql(spec, q, position, upTo, READ_PAGE));
      if (rows.length === 0) {
        controller.close();
        return;
      }
      const last = rows[rows.length - 1];
      position = [String(last.k1), String(last.k2)];
      controller.enqueue(encoder.encode(rows.map((r) => serialise(spec, q.format, r)).join("")));
      if (rows.length < READ_PAGE) controller.close();
    },
  });
  return { stream, nextCursor };
}

async function requireSegment(db: Database, programId: string, segmentId: string | undefined) {
  if (!segmentId)
    throw new AppError("invalid_request", "segmentId is required for segment-members", {
      fields: [{ path: "segmentId", message: "required" }],
    });
  const [row] = await db
    .select({ id: segments.id })
    .from(segments)
    .where(and(eq(segments.programId, programId), eq(segments.id, segmentId)))
    .limit(1);
  if (!row) throw notFound("Segment");
}
