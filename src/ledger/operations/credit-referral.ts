import { and, eq } from "drizzle-orm";
import { referrals } from "../../../schema";
import { ReferralInput, referralOfReferrer } from "../referrals";
import type { Plan } from "../result";
import {
  balanceAfter,
  deficitOf,
  type EntryView,
  entry,
  loadProgramAndMember,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  type Statement,
  type WriteScope,
} from "../state";

/**
 * Credit the referrer (run in the referrer's object by the settle cron, key
 * `referral:<id>:referrer`). Only a still-`qualified` referral pays; if a refund moved it to
 * `reversing` meanwhile, the reverse step takes back whatever was credited.
 */
export async function planReferralCredit(scope: WriteScope, raw: ReferralInput): Promise<Plan<ReferralCredit>> {
  const referral = await referralOfReferrer(scope, ReferralInput.parse(raw).referralId);
  if (referral.status !== "qualified")
    return {
      status: 200,
      body: { referralId: referral.id, status: referral.status, pointsCredited: 0 },
      statements: [],
    };
  const { program, member } = await loadProgramAndMember(scope);
  // A blocked or erased referrer earns nothing; the referral is settled all the same.
  const points = member.status === "active" ? referral.referrerPoints : 0;
  const statements: Statement[] = [];
  const entries: EntryView[] = [];
  let delta: MemberDelta = {};
  if (points > 0) {
    const e = entry(scope, {
      type: "earn",
      points,
      reason: "Referral reward",
      sourceType: "referral",
      sourceId: referral.id,
      metadata: { refereeId: referral.refereeId, orderId: referral.orderId },
    });
    const lot = newLot(scope, program, { entryId: e.row.id, points, hold: true, deficit: deficitOf(member) });
    delta = { balance: points, pending: lot.pending ? points : 0, earned: points };
    entries.push(e.view);
    statements.push(
      e.statement,
      lot.statement,
      memberDelta(scope, delta),
      outbox(scope, "points.earned", { points, referralId: referral.id, entryId: e.row.id }),
    );
  }
  statements.push(
    scope.db
      .update(referrals)
      .set({ status: "rewarded", rewardedAt: scope.now, referrerPoints: points })
      .where(and(eq(referrals.id, referral.id), eq(referrals.status, "qualified"))) as Statement,
    outbox(scope, "referral.rewarded", { referralId: referral.id, refereeId: referral.refereeId, referrerPoints: points }),
  );
  const body: ReferralCredit = {
    referralId: referral.id,
    status: "rewarded",
    pointsCredited: points,
    entries,
    balance: balanceAfter(member, delta),
  };
  return { status: 201, body, statements };
}

/** The answer of a credit: what was credited, or nothing when the referral was no longer `qualified`. */
export type ReferralCredit = {
  referralId: string;
  status: string;
  pointsCredited: number;
  entries?: EntryView[];
  balance?: ReturnType<typeof balanceAfter>;
};
