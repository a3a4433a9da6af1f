import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { ledgerEntries, lotAllocations, members, outboxEvents, pointLots, programs } from "../../schema";
import { type BatchRead, batchRead, readTogether } from "../db/batch-read";
import type { Database } from "../db/client";
import { expiryPolicyOf, inactivityDeadline, lotExpiry, lotExpiryColumns } from "../domain/points/expiry";
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
export type WriteScope = {
  db: Database;
  programId: string;
  memberId: string;
  requestKey: string;
  actor: WriteActor;
  /** The key (and partner) a client write came from; none for the system's own writes. */
  source?: { keyId: string | null; partner: string | null };
  now: string;
};

export type EntryView = {
  id: string;
  type: EntryType;
  points: number;
  reason: string;
  sourceType: string;
  sourceId: string | null;
  /** Change in the member's points debt (+ owed by a clawback, − repaid from new points). */
  debt: number;
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

/**
 * A lot's expiry as spending sees it: its own date, or for an `inactivity` lot the member's
 * deadline (read with it, so both come from one snapshot).
 */
export const effectiveLotExpiry = sql<
  string | null
>`CASE WHEN ${pointLots.expiryKind} = 'inactivity' THEN (SELECT m.inactivity_expires_at FROM members m WHERE m.id = ${pointLots.memberId}) ELSE ${pointLots.expiresAt} END`;

/** Lots that still hold points, in spending order (first to expire first). */
export async function loadOpenLots(scope: WriteScope): Promise<Array<LotForAllocation & { availableAt: string }>> {
  const rows = await scope.db
    .select({
      id: pointLots.id,
      remaining: pointLots.remaining,
      released: pointLots.released,
      expiresAt: effectiveLotExpiry,
      orderId: pointLots.orderId,
      availableAt: pointLots.availableAt,
    })
    .from(pointLots)
    .where(and(eq(pointLots.memberId, scope.memberId), gt(pointLots.remaining, 0)))
    .orderBy(asc(pointLots.expiresAt), asc(pointLots.id));
  // Lots past expiry (their date, or their member's inactivity deadline) are the expiry sweep's, not spendable.
  return rows.filter((l: { expiresAt: string | null }) => l.expiresAt === null || l.expiresAt > scope.now).sort(byExpiry);
}

/**
 * What a write that moves the member's inactivity deadline (a purchase, or a credit of an
 * `inactivity` lot) writes, without a read: when the deadline it read has passed, first the
 * member's `inactivity` lots become `date` lots at that deadline (the expiry sweep takes those
 * still holding points, however late it runs, and a later return to a spent one finds it lapsed:
 * a purchase after the deadline never rescues lapsed points);
 * then the deadline moves (inactivityDeadline), in SQL so several credits in one batch compose.
 */
function inactivityStatements(scope: WriteScope, member: MemberRow, days: number, purchase: boolean): Statement[] {
  const statements: Statement[] = [];
  const deadline = sql`(SELECT m.inactivity_expires_at FROM members m WHERE m.id = ${scope.memberId})`;
  if (member.inactivityExpiresAt !== null && member.inactivityExpiresAt <= scope.now)
    statements.push(
      scope.db
        .update(pointLots)
        .set({ expiresAt: deadline, expiryKind: "date" })
        .where(
          and(eq(pointLots.memberId, scope.memberId), eq(pointLots.expiryKind, "inactivity"), sql`${deadline} <= ${scope.now}`),
        ) as Statement,
    );
  const fresh = inactivityDeadline(null, scope.now, days, purchase);
  const running = sql`CASE WHEN ${members.inactivityExpiresAt} > ${scope.now} THEN ${members.inactivityExpiresAt} END`;
  statements.push(
    scope.db
      .update(members)
      .set({
        inactivityExpiresAt: purchase ? sql`MAX(${fresh}, COALESCE(${running}, ''))` : sql`COALESCE(${running}, ${fresh})`,
      })
      .where(eq(members.id, scope.memberId)) as Statement,
  );
  return statements;
}

/** A purchase under the `inactivity` policy moves the member's deadline, whether or not it earned points. */
export function purchaseInactivityStatements(scope: WriteScope, program: ProgramRow, member: MemberRow): Statement[] {
  const policy = expiryPolicyOf(program);
  return policy.kind === "inactivity" ? inactivityStatements(scope, member, policy.days, true) : [];
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
    debt?: number;
    metadata?: Record<string, unknown>;
    /** When it happened, if not now (imported history). */
    at?: string;
  },
) {
  const row = {
    id: e.at ? newId("led", Date.parse(e.at)) : newId("led"),
    programId: scope.programId,
    memberId: scope.memberId,
    type: e.type,
    points: e.points,
    reason: e.reason,
    sourceType: e.sourceType,
    sourceId: e.sourceId ?? null,
    ruleId: e.ruleId ?? null,
    debt: e.debt ?? 0,
    requestKey: scope.requestKey,
    metadata: e.metadata ?? null,
    createdAt: e.at ?? scope.now,
  };
  const view: EntryView = {
    id: row.id,
    type: row.type,
    points: row.points,
    reason: row.reason,
    sourceType: row.sourceType,
    sourceId: row.sourceId,
    debt: row.debt,
    createdAt: row.createdAt,
  };
  return { row, view, statement: scope.db.insert(ledgerEntries).values(row) as Statement };
}

/**
 * What a member owes when new points arrive: a negative available balance (`deficit`, programs
 * that allow one) and a points debt (`debt`, clawbacks that found the points spent). Several
 * credits in one batch pass it along (`owedLeft`).
 */
export type Owed = { deficit: number; debt: number };
export const owedBy = (member: MemberRow): Owed => ({
  deficit: Math.max(0, member.pointsPending - member.pointsBalance),
  debt: member.pointsDebt,
});

/**
 * A new lot for earned points, pending until the hold passes, expiring per the program's policy.
 * New points pay what the member owes first: a negative available balance (immediately
 * available points only, so lots always sum to the balance), then a points debt (any lot: a
 * `debt` entry takes the repaid points from the new lot, recorded in lot_allocations, so a
 * refund of the purchase later owes them again). `delta` is what the credit adds to the
 * member's figures (callers add `earned`). `dates` gives a lot earned before now (imported
 * history, migrated balances) its own earn and availability instants, and its expiry: the one
 * given (a migrated lot keeps the old system's date, null never), else the program's policy.
 */
export function newLot(
  scope: WriteScope,
  program: ProgramRow,
  member: MemberRow,
  e: {
    entryId: string;
    points: number;
    orderId?: string | null;
    hold: boolean;
    owed?: Owed;
    /** The lot is a purchase's: under the inactivity policy it moves the member's date (otherwise it only starts one). */
    purchase?: boolean;
    dates?: { earnedAt: string; availableAt: string; expiresAt?: string | null };
  },
) {
  const availableAt = e.dates?.availableAt ?? addDays(scope.now, e.hold ? program.holdDays : 0);
  const released = availableAt > scope.now ? 0 : 1;
  const owed = e.owed ?? { deficit: 0, debt: 0 };
  const deficitRepaid = released === 0 ? 0 : Math.min(e.points, Math.max(0, owed.deficit));
  // The points that cover a negative balance never become a lot: the lot holds the rest.
  const lotPoints = e.points - deficitRepaid;
  const debtRepaid = Math.min(lotPoints, Math.max(0, owed.debt));
  const remaining = lotPoints - debtRepaid;
  const given = e.dates?.expiresAt;
  const policy = expiryPolicyOf(program);
  const { expiresAt, expiryKind } =
    given === undefined
      ? lotExpiryColumns(lotExpiry(policy, availableAt, program.timeZone))
      : { expiresAt: given, expiryKind: "date" as const };
  const createdAt = e.dates?.earnedAt ?? scope.now;
  const lotId = e.dates ? newId("lot", Date.parse(createdAt)) : newId("lot");
  // Lapsed inactivity lots are settled before this lot joins them, and the deadline covers it.
  const inactivity =
    expiryKind === "inactivity" && policy.kind === "inactivity"
      ? inactivityStatements(scope, member, policy.days, e.purchase ?? false)
      : [];
  const statements: Statement[] = [
    ...inactivity.slice(0, -1),
    scope.db.insert(pointLots).values({
      id: lotId,
      programId: scope.programId,
      memberId: scope.memberId,
      entryId: e.entryId,
      orderId: e.orderId ?? null,
      points: lotPoints,
      remaining,
      availableAt,
      released,
      expiresAt,
      expiryKind,
      createdAt,
    }) as Statement,
    ...inactivity.slice(-1),
  ];
  let repayment: EntryView | null = null;
  if (debtRepaid > 0) {
    const r = entry(scope, {
      type: "debt",
      points: -debtRepaid,
      debt: -debtRepaid,
      reason: "Points debt repaid from new points",
      sourceType: "debt",
      sourceId: e.entryId,
    });
    repayment = r.view;
    statements.push(r.statement, ...allocationRows(scope, r.row.id, [{ lotId, points: debtRepaid }]));
  }
  const pending = released === 0;
  return {
    pending,
    availableAt,
    /** Null for an `inactivity` lot: it expires with the member's deadline. */
    expiresAt,
    statements,
    /** The `debt` entry that paid back part of a points debt, if any. */
    repayment,
    delta: { balance: e.points - debtRepaid, pending: pending ? remaining : 0, debt: -debtRepaid } satisfies MemberDelta,
    /** What is left owed for a lot credited after this one in the same batch. */
    owedLeft: { deficit: owed.deficit - deficitRepaid, debt: owed.debt - debtRepaid } satisfies Owed,
  };
}

/** The lot_allocations rows of an entry: positive points taken from a lot, negative returned to it. */
export function allocationRows(scope: WriteScope, entryId: string, takes: Array<{ lotId: string; points: number }>): Statement[] {
  if (takes.length === 0) return [];
  return [
    scope.db.insert(lotAllocations).values(
      takes.map((t) => ({
        programId: scope.programId,
        memberId: scope.memberId,
        entryId,
        lotId: t.lotId,
        points: t.points,
        createdAt: scope.now,
      })),
    ) as Statement,
  ];
}

/**
 * Decrements lots for the debit entry `entryId` and records which lots it used (lot_allocations),
 * in the same batch; the CHECK (remaining >= 0) fails the whole batch if a concurrent sweep got
 * there first.
 */
export function consumeLots(scope: WriteScope, entryId: string, takes: LotTake[]): Statement[] {
  return [
    ...takes.map(
      (t) =>
        scope.db
          .update(pointLots)
          .set({ remaining: sql`${pointLots.remaining} - ${t.points}` })
          .where(eq(pointLots.id, t.lotId)) as Statement,
    ),
    ...allocationRows(scope, entryId, takes),
  ];
}

export type MemberDelta = {
  balance?: number;
  pending?: number;
  debt?: number;
  reserved?: number;
  earned?: number;
  redeemed?: number;
  spend?: number;
  orders?: number;
};

/** The figures two credits or debits in one batch add to the member's. */
export function addDeltas(a: MemberDelta, b: MemberDelta): MemberDelta {
  const sum: MemberDelta = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[keyof MemberDelta, number | undefined]>) sum[k] = (sum[k] ?? 0) + (v ?? 0);
  return sum;
}

/**
 * Relative updates only, so a concurrent cron sweep on the same row is never lost; pending is not
 * counted at all but derived from the member's unreleased lots in this same statement (after the
 * batch's lot writes): the release sweep and the object's writes can then never both subtract
 * the same pending points, whatever the object read before the sweep committed.
 */
export function memberDelta(scope: WriteScope, d: MemberDelta, extra: Partial<Record<keyof MemberRow, unknown>> = {}): Statement {
  const add = (col: Parameters<typeof sql>[1], v?: number) => (v ? { value: sql`${col} + ${v}` } : undefined);
  const set: Record<string, unknown> = { updatedAt: scope.now, ...extra };
  const pairs: Array<[string, unknown, number | undefined]> = [
    ["pointsBalance", members.pointsBalance, d.balance],
    ["pointsDebt", members.pointsDebt, d.debt],
    ["pointsReserved", members.pointsReserved, d.reserved],
    ["lifetimeEarned", members.lifetimeEarned, d.earned],
    ["lifetimeRedeemed", members.lifetimeRedeemed, d.redeemed],
    ["lifetimeSpend", members.lifetimeSpend, d.spend],
    ["ordersCount", members.ordersCount, d.orders],
  ];
  for (const [key, col, v] of pairs) {
    const expr = add(col as never, v);
    if (expr) set[key] = expr.value;
  }
  set.pointsPending = pendingOfLots(scope.memberId);
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

/**
 * How a clawback of `target` points settles when `shortfall` of them were already spent: below
 * zero where the program allows a negative balance, otherwise owed as a points debt. Never lost.
 */
export function clawback(program: ProgramRow, target: number, shortfall: number): { reversed: number; owed: number } {
  return program.allowNegativeBalance ? { reversed: target, owed: 0 } : { reversed: target - shortfall, owed: shortfall };
}

/** A member's pending points as the sum of their unreleased lots, for a statement that sets `points_pending`. */
const pendingOfLots = (memberId: string) =>
  sql`(SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE member_id = ${memberId} AND released = 0)`;

export function balanceAfter(member: MemberRow, d: MemberDelta) {
  const total = member.pointsBalance + (d.balance ?? 0);
  const pending = member.pointsPending + (d.pending ?? 0);
  return {
    available: total - pending,
    pending,
    reserved: member.pointsReserved + (d.reserved ?? 0),
    total,
    debt: member.pointsDebt + (d.debt ?? 0),
  };
}
