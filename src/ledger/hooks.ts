import type { EarnHook } from "./accrue";
import type { RefundHook } from "./refund";
import type { Statement, WriteScope } from "./state";

type CustomPlanner = (scope: WriteScope, input: unknown) => Promise<{ status: 200 | 201; body: unknown; statements: Statement[] }>;

/**
 * Features plug into the ledger here (rules engine, tiers, referrals, rewards, campaigns)
 * so the Durable Object stays one small serialising shell. Registered at module load.
 */
export const ledgerHooks: { earn?: EarnHook; refund?: RefundHook; custom: Record<string, CustomPlanner> } = { custom: {} };
