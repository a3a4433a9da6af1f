import { and, eq } from "drizzle-orm";
import { referrals } from "../../../schema";
import { readTogether } from "../../db/batch-read";
import { earnByRules, earningAndTierRead } from "../earning";
import { ReferralInput, referralOfReferrer } from "../referrals";
import type { Plan } from "../result";
import {
  balanceAfter,
  type EntryView,
  entry,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  programAndMemberRead,
  type Statement,
  type WriteScope,
} from "../state";

/**
 * Credit the referrer (run in the referrer's object by the settle cron, key
 * `referral:<id>:referrer`): the program's referrerPoints plus what its `referral` earning rules
 * give — the only way those rules fire, once per qualified referral. Only a still-`qualified`
 * referral pays; if a refund moved it to `reversing` meanwhile, the reverse step takes back
 * whatever was credited.
 */
export async function planReferralCredit(scope: WriteScope, raw: ReferralInput): Promise<Plan<ReferralCredit>> {
  const referral = await referralOfReferrer(scope, ReferralInput.parse(raw).referralId);
  if (referral.status !== "qualified")
    return {
      status: 200,
      body: { referralId: referral.id, status: referral.status, pointsCredited: 0 },
      statements: [],
    };
  const [{ program, member }, loaded] = await readTogether(scope.db, [programAndMemberRead(scope), earningAndTierRead(scope)]);
  // A blocked or erased referrer earns nothing; the referral is settled all the same.
  const active = member.status === "active";
  const rules = active ? earnByRules(scope, { program, member }, { trigger: { type: "referral" }, occurredAt: scope.now }, loaded) : null;
  const points = active ? referral.referrerPoints + (rules?.result.points ?? 0) : 0;
  const statements: Statement[] = [...(rules?.statements ?? [])];
  const entries: EntryView[] = [];
  let delta: MemberDelta = {};
  if (points > 0) {
    const e = entry(scope, {
      type: "earn",
      points,
      reason: "Referral reward",
      sourceType: "referral",
      sourceId: referral.id,
      metadata: {
        refereeId: referral.refereeId,
        orderId: referral.orderId,
        ...(rules?.result.lines.length
          ? { lines: rules.result.lines.map((l) => ({ ruleId: l.ruleId, name: l.name, points: l.points })) }
          : {}),
      },
    });
    const lot = newLot(scope, program, member, { entryId: e.row.id, points, hold: true, owed: owedBy(member) });
    delta = { ...lot.delta, earned: points };
    entries.push(e.view, ...(lot.repayment ? [lot.repayment] : []));
    statements.push(
      e.statement,
      ...lot.statements,
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
