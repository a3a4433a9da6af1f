import { and, eq } from "drizzle-orm";
import { referrals } from "../../../schema";
import { ReferralInput, referralOfReferrer, takeBackReferralPoints } from "../referrals";
import type { Plan } from "../result";
import { balanceAfter, loadOpenLots, loadProgramAndMember, type Statement, type WriteScope } from "../state";

/** Take back the referrer's reward after the qualifying order was refunded (key `referral:<id>:reverse`). */
export async function planReferralReversal(scope: WriteScope, raw: ReferralInput): Promise<Plan<ReferralReversal>> {
  const referral = await referralOfReferrer(scope, ReferralInput.parse(raw).referralId);
  if (referral.status !== "reversing")
    return {
      status: 200,
      body: { referralId: referral.id, status: referral.status, pointsReversed: 0 },
      statements: [],
    };
  const { program, member } = await loadProgramAndMember(scope);
  const back = await takeBackReferralPoints(
    scope,
    program,
    referral.id,
    `Referral reversed: the referee's order ${referral.orderId} was refunded`,
    await loadOpenLots(scope),
    new Map(),
  );
  const body: ReferralReversal = {
    referralId: referral.id,
    status: "reversed",
    pointsReversed: back.reversed,
    pointsOwed: back.owed,
    balance: balanceAfter(member, back.delta),
  };
  return {
    status: 201,
    body,
    statements: [
      ...back.statements,
      scope.db
        .update(referrals)
        .set({ status: "reversed" })
        .where(and(eq(referrals.id, referral.id), eq(referrals.status, "reversing"))) as Statement,
    ],
  };
}

/** The answer of a reversal: what was taken back, or nothing when the referral was not `reversing`. */
export type ReferralReversal = {
  referralId: string;
  status: string;
  pointsReversed: number;
  pointsOwed?: number;
  balance?: ReturnType<typeof balanceAfter>;
};
