import { and, eq } from "drizzle-orm";
import { orders } from "../../schema";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { toUtcIso } from "../lib/time";
import { basePurchasePoints, type EarnResult, type PurchaseInput } from "./earning";
import { balanceAfter, deficitOf, entry, loadProgramAndMember, memberDelta, newLot, outbox, requireActive, type MemberRow, type ProgramRow, type Statement, type WriteScope } from "./state";

export type EarnHook = (args: { scope: WriteScope; program: ProgramRow; member: MemberRow; input: PurchaseInput; occurredAt: string }) => Promise<{ earn: EarnResult; statements: Statement[]; response?: Record<string, unknown> }>;

/**
 * A purchase: record the order, earn points as a (possibly pending) lot, update the
 * member's balance and purchase figures, and emit `points.earned` — one batch.
 */
export async function planAccrual(scope: WriteScope, input: PurchaseInput, earnHook?: EarnHook) {
  const { program, member } = await loadProgramAndMember(scope);
  requireActive(member);
  if (input.currency.toUpperCase() !== program.currency) {
    throw new AppError("invalid_request", `Currency ${input.currency} does not match the program currency ${program.currency}`);
  }
  const [existing] = await scope.db.select({ id: orders.id }).from(orders).where(and(eq(orders.programId, scope.programId), eq(orders.orderId, input.orderId))).limit(1);
  if (existing) throw new AppError("duplicate_order", `Order ${input.orderId} has already been accrued (use the original Idempotency-Key to replay it)`);

  const occurredAt = input.occurredAt ? toUtcIso(input.occurredAt) : scope.now;
  const hooked = earnHook ? await earnHook({ scope, program, member, input, occurredAt }) : { earn: basePurchasePoints(program, member, input), statements: [] };
  const { earn } = hooked;
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
  );
  return {
    status: 201 as const,
    body: { orderId: input.orderId, pointsEarned: earn.points, lines: earn.lines, tierMultiplier: earn.tierMultiplier, entries, balance: balanceAfter(member, delta), ...hooked.response },
    statements,
  };
}
