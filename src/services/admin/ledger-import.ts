import { z } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import { members } from "../../../schema";
import { MAX_CLOCK_SKEW_MS } from "../../ledger/occurred-at";
import { importAwards } from "../../ledger/operations/import-history";
import type { LedgerResult } from "../../ledger/result";
import { systemKeys } from "../../ledger/system-keys";
import type { Principal, ServiceContext } from "../../lib/context";
import { sha256Hex } from "../../lib/crypto";
import type { ErrorCode } from "../../lib/errors";
import { toUtcIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { writeSourceOf } from "../partner/scoping";
import { importMembers } from "./bulk-import";
import { ImportMemberRow } from "./import-rows";

/** Members one bulk request may carry (each is one write in its own Durable Object). */
export const MAX_IMPORT_MEMBERS = 200;
/** Lots (balances) or orders (transactions) of one member in one request. */
export const MAX_MEMBER_ROWS = 1000;
/** Durable Object writes in flight at once for one request. */
const FAN_OUT = 8;

const instant = z.iso.datetime({ offset: true }).transform(toUtcIso);
const notFuture = (at: string) => Date.parse(at) <= Date.now() + MAX_CLOCK_SKEW_MS;

/** The member a row is for: the storefront's customer id or the member id, exactly one. */
const MemberRef = z.object({
  externalId: z.string().trim().min(1).max(128).optional().openapi({ description: "The storefront's customer id" }),
  memberId: z.string().trim().min(1).max(64).optional().openapi({ description: "The member's id in this program" }),
});
const oneRef = (r: { externalId?: string; memberId?: string }) => (r.externalId === undefined) !== (r.memberId === undefined);
const oneRefMessage = { message: "give exactly one of externalId or memberId" };

const OpeningBalanceSchema = MemberRef.extend({
  legacyId: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .optional()
    .openapi({ description: "The member's id in the old system (kept as attributes.legacyId)" }),
  lots: z
    .array(
      z
        .object({
          points: z.number().int().positive().max(1_000_000_000),
          earnedAt: instant.refine(notFuture, "earnedAt is in the future"),
          availableAt: instant.optional().openapi({ description: "When the points became (or become) spendable; default earnedAt" }),
          expiresAt: instant.nullable().optional().openapi({ description: "When they expire; absent or null: never" }),
        })
        .strict(),
    )
    .max(MAX_MEMBER_ROWS),
  lifetimeEarned: z.number().int().nonnegative().max(1_000_000_000_000).optional(),
  lifetimeRedeemed: z.number().int().nonnegative().max(1_000_000_000_000).optional(),
  tier: z.string().trim().min(1).max(128).optional().openapi({ description: "Tier id or name" }),
  tierSecuredUntil: instant.optional().openapi({ description: "The member keeps the tier at least until then" }),
  referralCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{4,32}$/)
    .optional(),
})
  .strict()
  .refine(oneRef, oneRefMessage)
  .openapi("OpeningBalance");
export type OpeningBalance = z.infer<typeof OpeningBalanceSchema>;

export const ImportBalancesBody = z
  .object({ members: z.array(OpeningBalanceSchema).min(1).max(MAX_IMPORT_MEMBERS) })
  .strict()
  .openapi("ImportBalancesRequest");

const HistoryOrderSchema = z
  .object({
    orderId: z.string().trim().min(1).max(128),
    amount: z.number().int().nonnegative().max(1_000_000_000_000),
    currency: z.string().regex(/^[A-Za-z]{3}$/),
    occurredAt: instant.refine(notFuture, "occurredAt is in the future (more than 5 minutes ahead)"),
    channel: z.string().min(1).max(64).optional(),
    storeId: z.string().min(1).max(128).optional(),
  })
  .strict();

export const ImportTransactionsBody = z
  .object({
    award: z.enum(importAwards).openapi({
      description: "`rules`: orders earn through the earning rules, caps and budgets counted; `none`: history only, no points",
    }),
    members: z
      .array(
        MemberRef.extend({ orders: z.array(HistoryOrderSchema).min(1).max(MAX_MEMBER_ROWS) })
          .strict()
          .refine(oneRef, oneRefMessage),
      )
      .min(1)
      .max(MAX_IMPORT_MEMBERS),
  })
  .strict()
  .openapi("ImportTransactionsRequest");
export type ImportTransactions = z.infer<typeof ImportTransactionsBody>;

export const ImportResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int().openapi({ description: "The member's position in the request" }),
        memberId: z.string().nullable(),
        status: z.enum(["imported", "replayed", "existing", "rejected"]).openapi({
          description:
            "`replayed`: this member's part was already imported (a re-sent batch), nothing new was written; `existing` (members): a member with this externalId was already there and keeps their data",
        }),
        points: z.number().int().optional().openapi({ description: "Points credited (balances) or earned (transactions)" }),
        imported: z.number().int().optional().openapi({ description: "Orders recorded (transactions)" }),
        skippedExisting: z.number().int().optional().openapi({ description: "Orders already recorded, skipped (transactions)" }),
        code: z.string().optional(),
        message: z.string().optional(),
      }),
    ),
  })
  .openapi("ImportResult");
type MemberResult = z.infer<typeof ImportResultSchema>["results"][number];

/** Members one request may carry when only profiles are imported (no Durable Object write each). */
export const MAX_IMPORT_PROFILES = 1000;

export const ImportMembersBody = z
  .object({ members: z.array(ImportMemberRow).min(1).max(MAX_IMPORT_PROFILES) })
  .strict()
  .openapi("ImportMembersRequest");

/**
 * Member profiles, idempotent on externalId: new members are inserted, existing ones keep their
 * data (`existing`). No points move, so no Durable Object is involved.
 */
export async function importMemberProfiles(ctx: ServiceContext, programId: string, rows: ImportMemberRow[]): Promise<MemberResult[]> {
  const inserted = new Set((await importMembers(ctx.db, programId, rows)).externalIds);
  const idOf = await resolveMembers(ctx, programId, rows);
  return audited(
    ctx,
    "members",
    rows.map((row, index) => ({ index, memberId: idOf(row), status: inserted.has(row.externalId) ? "imported" : "existing" })),
  );
}

/**
 * One audit row per bulk request: what it did in counts (the members' own writes are in their
 * ledgers). Written after the members' writes, which commit each in its own Durable Object.
 */
async function audited(ctx: ServiceContext, kind: "members" | "balances" | "transactions", results: MemberResult[]) {
  const count = (status: MemberResult["status"]) => results.filter((r) => r.status === status).length;
  await auditStatement(ctx, {
    action: `import.${kind}`,
    entityType: "program",
    entityId: ctx.principal?.programId ?? null,
    after: {
      members: results.length,
      imported: count("imported"),
      replayed: count("replayed"),
      existing: count("existing"),
      rejected: count("rejected"),
      points: results.reduce((s, r) => s + (r.points ?? 0), 0),
    },
  });
  return results;
}

type Ref = { externalId?: string; memberId?: string };

/** The program's member ids for the refs given (a member of another program is not found). */
async function resolveMembers(ctx: ServiceContext, programId: string, refs: Ref[]) {
  const externalIds = [...new Set(refs.flatMap((r) => (r.externalId ? [r.externalId] : [])))];
  const ids = [...new Set(refs.flatMap((r) => (r.memberId ? [r.memberId] : [])))];
  const [byExternal, byId] = await Promise.all([
    externalIds.length
      ? ctx.db
          .select({ id: members.id, externalId: members.externalId })
          .from(members)
          .where(and(eq(members.programId, programId), inArray(members.externalId, externalIds)))
      : [],
    ids.length
      ? ctx.db
          .select({ id: members.id })
          .from(members)
          .where(and(eq(members.programId, programId), inArray(members.id, ids)))
      : [],
  ]);
  const external = new Map(byExternal.map((m) => [m.externalId, m.id]));
  const known = new Set(byId.map((m) => m.id));
  return (r: Ref) => (r.externalId ? external.get(r.externalId) : known.has(r.memberId!) ? r.memberId : undefined) ?? null;
}

/** Run `write` for each item, at most FAN_OUT at a time, results in the items' order. */
async function fanOut<T, R>(items: T[], write: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await write(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(FAN_OUT, items.length) }, worker));
  return results;
}

const rejected = (index: number, memberId: string | null, code: ErrorCode | string, message: string): MemberResult => ({
  index,
  memberId,
  status: "rejected",
  code,
  message,
});

function memberResult(
  index: number,
  memberId: string,
  result: LedgerResult<{ points?: number; pointsEarned?: number; imported?: number; skippedExisting?: number }>,
  conflictMessage: string,
): MemberResult {
  if (!result.ok) return rejected(index, memberId, result.code, result.code === "idempotency_conflict" ? conflictMessage : result.message);
  const b = result.body;
  return {
    index,
    memberId,
    status: result.replayed ? "replayed" : "imported",
    points: b.points ?? b.pointsEarned ?? 0,
    ...(b.imported === undefined ? {} : { imported: b.imported, skippedExisting: b.skippedExisting }),
  };
}

/**
 * Opening balances, one write per member in the member's Durable Object (so an import never
 * races a live checkout), idempotent per member: a re-sent member answers `replayed` and writes
 * nothing; a member whose opening balance was imported with other figures is rejected. Members
 * must exist (import them first).
 */
export async function importBalances(ctx: ServiceContext, principal: Principal, input: OpeningBalance[]): Promise<MemberResult[]> {
  const idOf = await resolveMembers(ctx, principal.programId, input);
  const results = await fanOut(input, async (row, index) => {
    const memberId = idOf(row);
    if (!memberId) return rejected(index, null, "not_found", "No member of this program has this id (import members first)");
    const { externalId: _e, memberId: _m, ...balance } = row;
    const req = await systemWriteRequest({
      programId: principal.programId,
      memberId,
      operation: "migration.balance",
      idempotencyKey: systemKeys.migration(memberId),
      body: balance,
      actor: principal.scope,
      source: writeSourceOf(principal),
    });
    const result = await memberLedger(ctx.env, principal.programId, memberId).migrateBalance(req, balance);
    return memberResult(index, memberId, result, "This member's opening balance was already imported with other figures");
  });
  return audited(ctx, "balances", results);
}

/**
 * Past purchases, one write per member in the member's Durable Object, earning by the rules or
 * not at all (`award`). Members named by externalId that do not exist yet are registered
 * (joined at their first order). Idempotent: the same member part re-sent is a replay, and
 * orders already recorded are skipped whatever the batching.
 */
export async function importTransactions(ctx: ServiceContext, principal: Principal, input: ImportTransactions): Promise<MemberResult[]> {
  const firstOrder = new Map<string, string>();
  for (const m of input.members)
    if (m.externalId)
      for (const o of m.orders)
        if (!firstOrder.has(m.externalId) || o.occurredAt < firstOrder.get(m.externalId)!) firstOrder.set(m.externalId, o.occurredAt);
  if (firstOrder.size > 0)
    await importMembers(
      ctx.db,
      principal.programId,
      [...firstOrder].map(([externalId, joinedAt]) => ({ externalId, joinedAt })),
    );
  const idOf = await resolveMembers(ctx, principal.programId, input.members);
  const results = await fanOut(input.members, async (row, index) => {
    const memberId = idOf(row);
    if (!memberId) return rejected(index, null, "not_found", "No member of this program has this id");
    const history = { award: input.award, orders: row.orders };
    const digest = await sha256Hex(`${input.award}:${row.orders.map((o) => o.orderId).join("\n")}`);
    const req = await systemWriteRequest({
      programId: principal.programId,
      memberId,
      operation: "import.history",
      idempotencyKey: systemKeys.history(memberId, digest.slice(0, 32)),
      body: history,
      actor: principal.scope,
      source: writeSourceOf(principal),
    });
    const result = await memberLedger(ctx.env, principal.programId, memberId).importHistory(req, history);
    return memberResult(index, memberId, result, "These orders were already imported with other figures");
  });
  return audited(ctx, "transactions", results);
}
