import type { AfterAccrualHook, EarnHook } from "./accrue";
import type { RefundHook } from "./refund";
import type { Statement, WriteScope } from "./state";

export type CustomPlanner = (scope: WriteScope, input: unknown) => Promise<{ status: 200 | 201; body: unknown; statements: Statement[] }>;

/**
 * Features plug into the member's ledger writes here so the Durable Object stays one small
 * serialising shell: `earn` computes a purchase's points (rules engine + tiers); `afterAccrual`
 * and `afterRefund` hooks add statements to the same batch (referrals, tier upgrades,
 * campaign budgets); `custom` planners are whole operations (reward redemption, campaign awards).
 */
export const ledgerHooks: { earn?: EarnHook; afterAccrual: AfterAccrualHook[]; afterRefund: RefundHook[]; custom: Record<string, CustomPlanner> } = {
  afterAccrual: [],
  afterRefund: [],
  custom: {},
};
