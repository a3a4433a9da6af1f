import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { ledgerEntries, redemptions } from "../../../schema";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { Plan } from "../result";
import { outstandingLots, returnToLots } from "../returns";
import { balanceAfter, type EntryView, loadProgramAndMember, memberDelta, outbox, type Statement, type WriteScope } from "../state";
import { planRedemption } from "./redeem";

type RedemptionRow = typeof redemptions.$inferSelect;

/** How long an uncaptured reserve holds its points: 30 minutes unless asked, at most 7 days. */
const HOLD_SECONDS = { default: 1_800, max: 7 * 86_400 } as const;

export const CheckoutInput = z.object({
  points: z.int().positive(),
  reason: z.string().min(1),
  capture: z.boolean().default(true),
  holdSeconds: z.int().min(1).max(HOLD_SECONDS.max).default(HOLD_SECONDS.default),
});
export type CheckoutInput = z.input<typeof CheckoutInput>;

export const RedemptionRef = z.object({ redemptionId: z.string().min(1), points: z.int().positive().optional() });
export type RedemptionRef = z.input<typeof RedemptionRef>;

export type RedemptionView = {
  id: string;
  memberId: string;
  status: RedemptionRow["status"];
  points: number;
  /** Points still held by an uncaptured reserve. */
  reservedPoints: number;
  capturedPoints: number;
  reversedPoints: number;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
};

export const toRedemptionView = (r: RedemptionRow): RedemptionView => ({
  id: r.id,
  memberId: r.memberId,
  status: r.status,
  points: r.points,
  reservedPoints: r.status === "reserved" ? r.points : 0,
  capturedPoints: r.capturedPoints,
  reversedPoints: r.reversedPoints,
  expiresAt: r.expiresAt,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** What a checkout write answers: the redemption, the entries it wrote, the balance after it. */
export type CheckoutResult = {
  redemption: RedemptionView;
  entries: EntryView[];
  balance: ReturnType<typeof balanceAfter>;
  /** Points that went back to their lots (a release, void, expiry or reversal). */
  pointsReturned?: number;
  /** Points whose lot expired while they were out: they are not returned. */
  pointsLapsed?: number;
};

/**
 * Redeem at checkout: the points leave their lots at once (first to expire first, a `redeem`
 * entry with its lot_allocations). Captured at once by default; with `capture: false` a reserve
 * that holds the points (`reserved` in the balance) until captured, voided or expired.
 */
export async function planCheckoutRedemption(scope: WriteScope, raw: CheckoutInput): Promise<Plan<CheckoutResult>> {
  const input = CheckoutInput.parse(raw);
  const id = newId("rdm");
  const planned = await planRedemption(scope, { points: input.points, reason: input.reason, sourceType: "redemption", sourceId: id });
  const row: RedemptionRow = {
    id,
    programId: scope.programId,
    memberId: scope.memberId,
    status: input.capture ? "captured" : "reserved",
    points: input.points,
    capturedPoints: input.capture ? input.points : 0,
    reversedPoints: 0,
    reason: input.reason,
    entryId: planned.body.entries[0].id,
    expiresAt: input.capture ? null : new Date(Date.parse(scope.now) + input.holdSeconds * 1000).toISOString(),
    sourcePartner: scope.source?.partner ?? null,
    createdAt: scope.now,
    updatedAt: scope.now,
  };
  const statements: Statement[] = [...planned.statements, scope.db.insert(redemptions).values(row) as Statement];
  const balance = { ...planned.body.balance };
  if (!input.capture) {
    statements.push(
      memberDelta(scope, { reserved: input.points }),
      outbox(scope, "redemption.reserved", { redemptionId: id, points: input.points, expiresAt: row.expiresAt }),
    );
    balance.reserved += input.points;
  }
  return { status: 201, body: { redemption: toRedemptionView(row), entries: planned.body.entries, balance }, statements };
}

async function loadRedemption(scope: WriteScope, redemptionId: string): Promise<RedemptionRow> {
  const [row] = await scope.db
    .select()
    .from(redemptions)
    .where(and(eq(redemptions.programId, scope.programId), eq(redemptions.id, redemptionId)))
    .limit(1);
  if (!row || row.memberId !== scope.memberId) throw notFound("Redemption");
  return row;
}

/** The redemption's points still out of their lots: its debit net of what was returned for it since. */
const lotsOf = (scope: WriteScope, r: RedemptionRow) =>
  outstandingLots(scope, and(eq(ledgerEntries.sourceType, "redemption"), eq(ledgerEntries.sourceId, r.id)));

/**
 * Settle a reserve: keep `capture` points, give the rest back to the lots they came from. One
 * plan for capture (all or part), void (none kept) and expiry (none kept, by the system).
 */
async function settleReserve(
  scope: WriteScope,
  r: RedemptionRow,
  capture: number,
  status: "captured" | "voided" | "expired",
): Promise<Plan<CheckoutResult>> {
  const { member } = await loadProgramAndMember(scope);
  const release = r.points - capture;
  const back = returnToLots(scope, await lotsOf(scope, r), release, {
    reason: status === "captured" ? "Uncaptured points released" : status === "voided" ? "Reserve voided" : "Reserve expired",
    sourceType: "redemption",
    sourceId: r.id,
  });
  const delta = { balance: back.returned, reserved: -r.points, redeemed: -release };
  const settled: RedemptionRow = { ...r, status, capturedPoints: capture, updatedAt: scope.now };
  return {
    status: 200,
    body: {
      redemption: toRedemptionView(settled),
      entries: back.entry ? [back.entry] : [],
      balance: balanceAfter(member, delta),
      pointsReturned: back.returned,
      pointsLapsed: back.lapsed,
    },
    statements: [
      // Not guarded on the status on purpose: the trigger redemptions_status_guard refuses the whole
      // batch (its return of points included) if the reserve was settled meanwhile.
      scope.db
        .update(redemptions)
        .set({ status, capturedPoints: capture, updatedAt: scope.now })
        .where(eq(redemptions.id, r.id)) as Statement,
      ...back.statements,
      memberDelta(scope, delta),
      outbox(scope, `redemption.${status}`, {
        redemptionId: r.id,
        points: capture,
        pointsReturned: back.returned,
        pointsLapsed: back.lapsed,
      }),
    ],
  };
}

function requireReserved(scope: WriteScope, r: RedemptionRow, verb: string) {
  if (r.status === "expired" || (r.status === "reserved" && r.expiresAt !== null && r.expiresAt <= scope.now))
    throw new AppError("redemption_expired", `Redemption ${r.id} expired at ${r.expiresAt}; its points went back to the member`);
  if (r.status !== "reserved") throw new AppError("conflict", `Redemption ${r.id} is ${r.status}; only a reserve can be ${verb}`);
}

/** Capture a reserve, all of it or `points` of it (the rest goes back to its lots). 409 once expired. */
export async function planCapture(scope: WriteScope, raw: RedemptionRef): Promise<Plan<CheckoutResult>> {
  const input = RedemptionRef.parse(raw);
  const r = await loadRedemption(scope, input.redemptionId);
  requireReserved(scope, r, "captured");
  const capture = input.points ?? r.points;
  if (capture > r.points)
    throw new AppError("conflict", `Capture of ${capture} exceeds the ${r.points} points reserved`, { reserved: r.points });
  return settleReserve(scope, r, capture, "captured");
}

/** Void a reserve: every point goes back to its lot. */
export async function planVoid(scope: WriteScope, raw: RedemptionRef): Promise<Plan<CheckoutResult>> {
  const r = await loadRedemption(scope, RedemptionRef.parse(raw).redemptionId);
  requireReserved(scope, r, "voided");
  return settleReserve(scope, r, 0, "voided");
}

/** A reserve past its time (the member's Durable Object alarm): its points go back; nothing if it was settled meanwhile. */
export async function planHoldExpiry(scope: WriteScope, raw: RedemptionRef): Promise<Plan<CheckoutResult | { redemptionId: string }>> {
  const r = await loadRedemption(scope, RedemptionRef.parse(raw).redemptionId);
  if (r.status !== "reserved" || r.expiresAt === null || r.expiresAt > scope.now)
    return { status: 200, body: { redemptionId: r.id }, statements: [] };
  return settleReserve(scope, r, 0, "expired");
}

/**
 * Reverse a captured redemption (the order was cancelled), all that is left of it or `points`:
 * they go back to the lots they came from, with their original expiry. Never more than captured.
 */
export async function planReversal(scope: WriteScope, raw: RedemptionRef): Promise<Plan<CheckoutResult>> {
  const input = RedemptionRef.parse(raw);
  const r = await loadRedemption(scope, input.redemptionId);
  if (r.status !== "captured")
    throw new AppError("conflict", `Redemption ${r.id} is ${r.status}; only a captured redemption can be reversed`);
  const left = r.capturedPoints - r.reversedPoints;
  const points = input.points ?? left;
  if (points > left)
    throw new AppError(
      "reversal_exceeds_redemption",
      `Reversal of ${points} exceeds the ${left} points of redemption ${r.id} not yet reversed`,
      {
        reversible: left,
      },
    );
  const { member } = await loadProgramAndMember(scope);
  const back = returnToLots(scope, await lotsOf(scope, r), points, {
    reason: "Redemption reversed",
    sourceType: "redemption",
    sourceId: r.id,
  });
  const delta = { balance: back.returned, redeemed: -points };
  const reversed: RedemptionRow = { ...r, reversedPoints: r.reversedPoints + points, updatedAt: scope.now };
  return {
    status: 200,
    body: {
      redemption: toRedemptionView(reversed),
      entries: back.entry ? [back.entry] : [],
      balance: balanceAfter(member, delta),
      pointsReturned: back.returned,
      pointsLapsed: back.lapsed,
    },
    statements: [
      // Relative, so the CHECK (reversed <= captured) refuses a reversal past what was captured.
      scope.db
        .update(redemptions)
        .set({ reversedPoints: sql`${redemptions.reversedPoints} + ${points}`, updatedAt: scope.now })
        .where(eq(redemptions.id, r.id)) as Statement,
      ...back.statements,
      memberDelta(scope, delta),
      outbox(scope, "redemption.reversed", { redemptionId: r.id, points, pointsReturned: back.returned, pointsLapsed: back.lapsed }),
    ],
  };
}
