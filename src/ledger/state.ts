import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { ledgerEntries, members, outboxEvents, pointLots, programs } from "../../schema";
import { type BatchRead, batchRead, readTogether } from "../db/batch-read";
import type { Database } from "../db/client";
import type { Scope } from "../lib/context";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { addDays } from "../lib/time";
import { byExpiry, type LotForAllocation, type LotTake } from "./lots";

export type Statement = BatchItem<"sqlite">;
export type ProgramRow = typeof programs.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type EntryType = (typeof ledgerEntries.$inferInsert)["type"];

/**
 * Who a write's facts come from: a client's key (its scope), or the system itself (crons,
 * feedback, bonuses). A partner event carries the partner's facts under a system key.
 */
export type WriteActor = Scope | "system";

/** Identity of one ledger write inside the member's Durable Object. */
export type WriteScope = { db: Database; programId: string; memberId: string; requestKey: string; actor: WriteActor; now: string };

export type EntryView = {
  id: string;
  type: EntryType;
  points: number;
  reason: string;
  sourceType: string;
  sourceId: string | null;
  createdAt: string;
};

/** The write's program and member as a read that can join a larger batch; 404 if either is missing. */
export function programAndMemberRead(scope: WriteScope): BatchRead<{ program: ProgramRow; member: MemberRow }> {
  const { db } = scope;
  return batchRead(
    [
      db.select().from(programs).where(eq(programs.id, scope.programId)).limit(1),
      db
        .select()
        .from(members)
        .where(and(eq(members.programId, scope.programId), eq(members.id, scope.memberId)))
        .limit(1),
    ],
    ([programRows, memberRows]) => {
      if (!programRows[0]) throw notFound("Program");
      if (!memberRows[0]) throw notFound("Member");
      return { program: programRows[0], member: memberRows[0] };
    },
  );
}

export async function loadProgramAndMember(scope: WriteScope): Promise<{ program: ProgramRow; member: MemberRow }> {
  const [loaded] = await readTogether(scope.db, [programAndMemberRead(scope)]);
  return loaded;
}

/**
 * Earning and spending need an active member. An erased member's books still close (refunds,
 * admin adjustments, expiry, referral settlement run), but nothing new is earned or spent.
 */
export function requireActive(member: MemberRow) {
  if (member.status === "erased") throw new AppError("member_erased", "Member has been erased; points cannot be earned or spent");
  if (member.status !== "active") throw new AppError("conflict", `Member is ${member.status}; points cannot change`);
}

/** A client's free-text reason, or `neutral` once the member is erased: nothing personal is written about them afterwards. */
export const reasonFor = (member: MemberRow, given: string | undefined, neutral: string) =>
  member.status === "erased" || !given ? neutral : given;

/** Lots that still hold points, in spending order (first to expire first). */
export async function loadOpenLots(scope: WriteScope): Promise<Array<LotForAllocation & { availableAt: string }>> {
  const rows = await scope.db
    .select({
      id: pointLots.id,
      remaining: pointLots.remaining,
      released: pointLots.released,
      expiresAt: pointLots.expiresAt,
      orderId: pointLots.orderId,
      availableAt: pointLots.availableAt,
    })
    .from(pointLots)
    .where(and(eq(pointLots.memberId, scope.memberId), gt(pointLots.remaining, 0)))
    .orderBy(asc(pointLots.expiresAt), asc(pointLots.id));
  // Lots past expiry are the expiry cron's, not spendable.
  return rows.filter((l: { expiresAt: string | null }) => l.expiresAt === null || l.expiresAt > scope.now).sort(byExpiry);
}

export function entry(
  scope: WriteScope,
  e: {
    type: EntryType;
    points: number;
    reason: string;
    sourceType: string;
    sourceId?: string | null;
    ruleId?: string | null;
    metadata?: Record<string, unknown>;
  },
) {
  const row = {
    id: newId("led"),
    programId: scope.programId,
    memberId: scope.memberId,
    type: e.type,
    points: e.points,
    reason: e.reason,
    sourceType: e.sourceType,
    sourceId: e.sourceId ?? null,
    ruleId: e.ruleId ?? null,
    requestKey: scope.requestKey,
    metadata: e.metadata ?? null,
    createdAt: scope.now,
  };
  const view: EntryView = {
    id: row.id,
    type: row.type,
    points: row.points,
    reason: row.reason,
    sourceType: row.sourceType,
    sourceId: row.sourceId,
    createdAt: row.createdAt,
  };
  return { row, view, statement: scope.db.insert(ledgerEntries).values(row) as Statement };
}

/** A new lot for earned points, pending until the hold passes, expiring per the program's policy. */
export function newLot(
  scope: WriteScope,
  program: ProgramRow,
  e: { entryId: string; points: number; orderId?: string | null; hold: boolean; deficit?: number },
) {
  const holdDays = e.hold ? program.holdDays : 0;
  // A negative available balance (allowed by some programs) is paid back first from new,
  // immediately available points, so lots always sum to the available balance.
  const deficit = Math.max(0, e.deficit ?? 0);
  const repaid = holdDays > 0 ? 0 : Math.min(e.points, deficit);
  const remaining = e.points - repaid;
  const availableAt = addDays(scope.now, holdDays);
  const released = holdDays > 0 ? 0 : 1;
  const expiresAt = program.expiryDays ? addDays(availableAt, program.expiryDays) : null;
  return {
    pending: released === 0,
    availableAt,
    expiresAt,
    /** What is left of the deficit for a lot credited after this one in the same batch. */
    deficitLeft: deficit - repaid,
    statement: scope.db.insert(pointLots).values({
      id: newId("lot"),
      programId: scope.programId,
      memberId: scope.memberId,
      entryId: e.entryId,
      orderId: e.orderId ?? null,
      points: e.points,
      remaining,
      availableAt,
      released,
      expiresAt,
      createdAt: scope.now,
    }) as Statement,
  };
}

/** Decrements lots; the CHECK (remaining >= 0) fails the whole batch if a concurrent sweep got there first. */
export function consumeLots(scope: WriteScope, takes: LotTake[]): Statement[] {
  return takes.map(
    (t) =>
      scope.db
        .update(pointLots)
        .set({ remaining: sql`${pointLots.remaining} - ${t.points}` })
        .where(eq(pointLots.id, t.lotId)) as Statement,
  );
}

export type MemberDelta = { balance?: number; pending?: number; earned?: number; redeemed?: number; spend?: number; orders?: number };

/** Relative updates only, so a concurrent cron sweep on the same row is never lost. */
export function memberDelta(scope: WriteScope, d: MemberDelta, extra: Partial<Record<keyof MemberRow, unknown>> = {}): Statement {
  const add = (col: Parameters<typeof sql>[1], v?: number) => (v ? { value: sql`${col} + ${v}` } : undefined);
  const set: Record<string, unknown> = { updatedAt: scope.now, ...extra };
  const pairs: Array<[string, unknown, number | undefined]> = [
    ["pointsBalance", members.pointsBalance, d.balance],
    ["pointsPending", members.pointsPending, d.pending],
    ["lifetimeEarned", members.lifetimeEarned, d.earned],
    ["lifetimeRedeemed", members.lifetimeRedeemed, d.redeemed],
    ["lifetimeSpend", members.lifetimeSpend, d.spend],
    ["ordersCount", members.ordersCount, d.orders],
  ];
  for (const [key, col, v] of pairs) {
    const expr = add(col as never, v);
    if (expr) set[key] = expr.value;
  }
  return scope.db.update(members).set(set).where(eq(members.id, scope.memberId)) as Statement;
}

export function outbox(scope: WriteScope, type: string, payload: Record<string, unknown>): Statement {
  return scope.db.insert(outboxEvents).values({
    id: newId("evt"),
    programId: scope.programId,
    memberId: scope.memberId,
    type,
    payload: { memberId: scope.memberId, ...payload },
    createdAt: scope.now,
  }) as Statement;
}

export const deficitOf = (member: MemberRow) => Math.max(0, member.pointsPending - member.pointsBalance);

export function balanceAfter(member: MemberRow, d: MemberDelta) {
  const total = member.pointsBalance + (d.balance ?? 0);
  const pending = member.pointsPending + (d.pending ?? 0);
  return { available: total - pending, pending, total };
}
