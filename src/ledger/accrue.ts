import { and, eq } from "drizzle-orm";
import { orders } from "../../schema";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { toUtcIso } from "../lib/time";
import { ledgerHooks } from "./hooks";
import { basePurchasePoints, type EarnResult, type PurchaseInput } from "./earning";
import { balanceAfter, deficitOf, entry, loadProgramAndMember, memberDelta, newLot, outbox, requireActive, type MemberRow, type ProgramRow, type Statement, type WriteScope } from "./state";

export type AccrualContext = { scope: WriteScope; program: ProgramRow; member: MemberRow; input: PurchaseInput; occurredAt: string; isFirstPurchase: boolean };
export type HookOutput = { statements: Statement[]; response?: Record<string, unknown> };
/** Computes a purchase's points (the rules engine); may add statements (rule usage). */
export type EarnHook = (ctx: AccrualContext) => Promise<HookOutput & { earn: EarnResult }>;
/** Reacts to an accrual inside the same batch (tier upgrade, referral reward, …). */
export type AfterAccrualHook = (ctx: AccrualContext & { earn: EarnResult }) => Promise<HookOutput>;

/**
 * A purchase: record the order, earn points as a (possibly pending) lot, update the
 * member's balance and purchase figures, and emit `points.earned` — one batch.
 */
export async function planAccrual(scope: WriteScope, input: PurchaseInput) {
  // The duplicate-order read runs beside the program and member reads: one round trip, not two.
  const [{ program, member }, [existing]] = await Promise.all([
    loadProgramAndMember(scope),
    scope.db.select({ id: orders.id }).from(orders).where(and(eq(orders.programId, scope.programId), eq(orders.orderId, input.orderId))).limit(1),
  ]);
  requireActive(member);
  if (input.currency.toUpperCase() !== program.currency) {
    throw new AppError("invalid_request", `Currency ${input.currency} does not match the program currency ${program.currency}`);
  }
  if (existing) throw new AppError("duplicate_order", `Order ${input.orderId} has already been accrued (use the original Idempotency-Key to replay it)`);

  const occurredAt = input.occurredAt ? toUtcIso(input.occurredAt) : scope.now;
  const ctx: AccrualContext = { scope, program, member, input, occurredAt, isFirstPurchase: member.ordersCount === 0 };
  const hooked = ledgerHooks.earn ? await ledgerHooks.earn(ctx) : { earn: basePurchasePoints(program, member, input), statements: [] as Statement[], response: {} };
  const { earn } = hooked;
  const after = [];
  for (const hook of ledgerHooks.afterAccrual) after.push(await hook(Object.assign({}, ctx, { earn })));
  const statements: Statement[] = [
    scope.db.insert(orders).values({
      id: newId("ord"),
      programId: scope.programId,
      memberId: scope.memberId,
      orderId: input.orderId,
      amount: input.amount,
      currency: program.currency,
      pointsEarned: earn.points,
      channel: input.channel ?? null,
      storeId: input.storeId ?? null,
      items: input.items ?? null,
      occurredAt,
      createdAt: scope.now,
    }) as Statement,
  ];
  const entries = [];
  let pending = 0;
  if (earn.points > 0) {
    const e = entry(scope, { type: "earn", points: earn.points, reason: `Purchase ${input.orderId}`, sourceType: "order", sourceId: input.orderId, metadata: { lines: earn.lines, tierMultiplier: earn.tierMultiplier } });
    const lot = newLot(scope, program, { entryId: e.row.id, points: earn.points, orderId: input.orderId, hold: true, deficit: deficitOf(member) });
    pending = lot.pending ? earn.points : 0;
    entries.push(e.view);
    statements.push(e.statement, lot.statement, outbox(scope, "points.earned", { points: earn.points, orderId: input.orderId, entryId: e.row.id, availableAt: lot.availableAt, expiresAt: lot.expiresAt }));
  }
  const delta = { balance: earn.points, pending, earned: earn.points, spend: input.amount, orders: 1 };
  const lastPurchaseAt = !member.lastPurchaseAt || member.lastPurchaseAt < occurredAt ? occurredAt : member.lastPurchaseAt;
  statements.push(
    memberDelta(scope, delta, { firstPurchaseAt: member.firstPurchaseAt && member.firstPurchaseAt < occurredAt ? member.firstPurchaseAt : occurredAt, lastPurchaseAt, lastActivityAt: lastPurchaseAt }),
    outbox(scope, "order.accrued", { orderId: input.orderId, amount: input.amount, occurredAt, points: earn.points }),
    ...hooked.statements,
    ...after.flatMap((a) => a.statements),
  );
  return {
    status: 201 as const,
    body: { orderId: input.orderId, pointsEarned: earn.points, lines: earn.lines, tierMultiplier: earn.tierMultiplier, entries, balance: balanceAfter(member, delta), ...hooked.response, ...Object.assign({}, ...after.map((a) => a.response ?? {})) },
    statements,
  };
}
