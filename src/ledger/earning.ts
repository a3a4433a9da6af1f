import type { MemberRow, ProgramRow } from "./state";

export type PurchaseInput = {
  orderId: string;
  amount: number;
  currency: string;
  items?: Array<{ sku: string; category?: string; quantity: number; unitPrice: number }>;
  channel?: string;
  storeId?: string;
  occurredAt?: string;
};

export type EarnLine = { ruleId: string; name: string; points: number };
export type EarnResult = { points: number; lines: EarnLine[]; tierMultiplier: number };

/** Base earn: `basePointsPerUnit` per whole `unitMinor` spent. The rules engine extends this. */
export function basePurchasePoints(program: ProgramRow, _member: MemberRow, input: PurchaseInput): EarnResult {
  const points = Math.floor(input.amount / program.unitMinor) * program.basePointsPerUnit;
  return { points, lines: [{ ruleId: "base", name: "Base earn rate", points }], tierMultiplier: 1 };
}
