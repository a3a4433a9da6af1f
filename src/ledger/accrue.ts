import { and, eq } from "drizzle-orm";
import { orders } from "../../schema";
import { type BatchRead, batchRead, fetchTogether } from "../db/batch-read";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { toUtcIso } from "../lib/time";
import { basePurchasePoints, type EarnResult, type PurchaseInput } from "./earning";
import { ledgerHooks } from "./hooks";
import {
  balanceAfter,
  deficitOf,
  entry,
  type MemberRow,
  memberDelta,
  newLot,
  outbox,
  type ProgramRow,
  programAndMemberRead,
  requireActive,
  type Statement,
  type WriteScope,
} from "./state";

/** A read a hook declares up front (`ledgerHooks.accrualReads`), fetched in the accrual's one read batch. */
export type AccrualRead<T> = (scope: WriteScope, input: PurchaseInput) => BatchRead<T>;
export type AccrualContext = {
  scope: WriteScope;
  program: ProgramRow;
  member: MemberRow;
  input: PurchaseInput;
  occurredAt: string;
  isFirstPurchase: boolean;
  /** The parsed result of a registered accrual read (parsed on first use, after the checks passed). */
  preloaded: <T>(read: AccrualRead<T>) => T;
};
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
  // ONE round trip reads everything: program, member, the duplicate-order check and whatever
  // the hooks declared (rules, ladder, usage, segments, tier figures); then one write batch.
  const programAndMember = programAndMemberRead(scope);
  const duplicateOrder = batchRead(
    [
      scope.db
        .select({ id: orders.id })
        .from(orders)
        .where(and(eq(orders.programId, scope.programId), eq(orders.orderId, input.orderId)))
        .limit(1),
    ],
    ([rows]) => rows[0],
  );
  const hookReads = ledgerHooks.accrualReads.map((read) => ({ read, batch: read(scope, input) }));
  const [own, duplicate, ...hookResults] = await fetchTogether(scope.db, [
    programAndMember,
    duplicateOrder,
    ...hookReads.map((h) => h.batch),
  ]);
  const { program, member } = programAndMember.parse(own);
  const existing = duplicateOrder.parse(duplicate);
  requireActive(member);
  if (input.currency.toUpperCase() !== program.currency) {
    throw new AppError("invalid_request", `Currency ${input.currency} does not match the program currency ${program.currency}`);
  }
  if (existing)
    throw new AppError(
      "duplicate_order",
      `Order ${input.orderId} has already been accrued (use the original Idempotency-Key to replay it)`,
    );

  const occurredAt = input.occurredAt ? toUtcIso(input.occurredAt) : scope.now;
  const parsed = new Map<AccrualRead<unknown>, unknown>();
  const preloaded = <T>(read: AccrualRead<T>): T => {
    const at = hookReads.findIndex((h) => h.read === read);
    if (at < 0) throw new Error("preloaded(): this read is not registered in ledgerHooks.accrualReads");
    if (!parsed.has(read)) parsed.set(read, hookReads[at].batch.parse(hookResults[at]));
    return parsed.get(read) as T;
  };
  const ctx: AccrualContext = { scope, program, member, input, occurredAt, isFirstPurchase: member.ordersCount === 0, preloaded };
  const hooked = ledgerHooks.earn
    ? await ledgerHooks.earn(ctx)
    : { earn: basePurchasePoints(program, member, input), statements: [] as Statement[], response: {} };
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
    const e = entry(scope, {
      type: "earn",
      points: earn.points,
      reason: `Purchase ${input.orderId}`,
      sourceType: "order",
      sourceId: input.orderId,
      metadata: { lines: earn.lines, tierMultiplier: earn.tierMultiplier },
    });
    const lot = newLot(scope, program, {
      entryId: e.row.id,
      points: earn.points,
      orderId: input.orderId,
      hold: true,
      deficit: deficitOf(member),
    });
    pending = lot.pending ? earn.points : 0;
    entries.push(e.view);
    statements.push(
      e.statement,
      lot.statement,
      outbox(scope, "points.earned", {
        points: earn.points,
        orderId: input.orderId,
        entryId: e.row.id,
        availableAt: lot.availableAt,
        expiresAt: lot.expiresAt,
      }),
    );
  }
  const delta = { balance: earn.points, pending, earned: earn.points, spend: input.amount, orders: 1 };
  const lastPurchaseAt = !member.lastPurchaseAt || member.lastPurchaseAt < occurredAt ? occurredAt : member.lastPurchaseAt;
  statements.push(
    memberDelta(scope, delta, {
      firstPurchaseAt: member.firstPurchaseAt && member.firstPurchaseAt < occurredAt ? member.firstPurchaseAt : occurredAt,
      lastPurchaseAt,
      lastActivityAt: lastPurchaseAt,
    }),
    outbox(scope, "order.accrued", { orderId: input.orderId, amount: input.amount, occurredAt, points: earn.points }),
    ...hooked.statements,
    ...after.flatMap((a) => a.statements),
  );
  return {
    status: 201 as const,
    body: {
      orderId: input.orderId,
      pointsEarned: earn.points,
      lines: earn.lines,
      tierMultiplier: earn.tierMultiplier,
      entries,
      balance: balanceAfter(member, delta),
      ...hooked.response,
      ...Object.assign({}, ...after.map((a) => a.response ?? {})),
    },
    statements,
  };
}
