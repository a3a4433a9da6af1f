import type { AccrualRead, AfterAccrualHook, EarnHook } from "./accrue";
import type { RefundHook } from "./refund";
import type { Statement, WriteScope } from "./state";

export type CustomPlanner = (scope: WriteScope, input: unknown) => Promise<{ status: 200 | 201; body: unknown; statements: Statement[] }>;

/**
 * Features plug into the member's ledger writes here so the Durable Object stays one small
 * serialising shell: `earn` computes a purchase's points (rules engine + tiers); `accrualReads`
 * declare what the hooks read so an accrual reads everything in one round trip; `afterAccrual`
 * and `afterRefund` hooks add statements to the same batch (referrals, tier upgrades,
 * campaign budgets); `custom` planners are whole operations (reward redemption, campaign awards).
 */
export const ledgerHooks: {
  earn?: EarnHook;
  /** Reads the earn/afterAccrual hooks need, fetched in the accrual's one read batch (`ctx.preloaded(read)`). */
  accrualReads: AccrualRead<unknown>[];
  afterAccrual: AfterAccrualHook[];
  afterRefund: RefundHook[];
  custom: Record<string, CustomPlanner>;
} = {
  accrualReads: [],
  afterAccrual: [],
  afterRefund: [],
  custom: {},
};
