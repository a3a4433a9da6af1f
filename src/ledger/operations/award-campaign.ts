import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { budgets, campaignOccurrences, campaigns, rewards, tiers } from "../../../schema";
import { messageActionSchema } from "../../domain/campaigns/definition";
import { localMonth } from "../../domain/local-time";
import { AppError, notFound } from "../../lib/errors";
import { messageInserts, templateFields } from "../../services/campaigns/message-rows";
import {
  balanceAfter,
  entry,
  loadProgramAndMember,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";
import { giftCoupon, requireGiftable } from "./gift-coupon";

export const CampaignAwardInput = z.object({
  campaignId: z.string().min(1),
  occurrenceKey: z.string().min(1),
  variantKey: z.string().nullable().default(null),
  points: z.int().min(0).default(0),
  rewardId: z.string().min(1).nullable().default(null),
  messages: z.array(messageActionSchema).default([]),
  context: z.record(z.string(), z.unknown()).default({}),
});
export type CampaignAwardInput = z.input<typeof CampaignAwardInput>;

/** What `points` cost the program: pointCostPer1000 minor units per 1000 points, rounded up so spend is never under-counted. */
const pointsCostMinor = (points: number, pointCostPer1000: number) => Math.ceil((points * pointCostPer1000) / 1000);

/** The program budget period (the local month "YYYY-MM" in the program's zone) a write at `at` counts against. */
const budgetPeriodOf = (at: string, timeZone: string) => localMonth(at, timeZone);

/**
 * A campaign's award to one member, in the member's Durable Object: points credited as an
 * available lot and/or a reward issued as a gift coupon (no points charged), the cost
 * (points × cost per point + the reward's cost) added to the campaign's spend and the
 * period's campaign spend, the occurrence marked awarded and the campaign's messages
 * (rendered with the balance after the award) queued — one batch.
 *
 * Budgets: checked here for a clean 409 budget_exhausted; enforced by the triggers
 * campaigns_budget_guard / budgets_spend_guard, because awards for different members run
 * in different objects concurrently. A batch refused by a trigger is re-planned by the
 * object, and the re-plan sees the spend and answers budget_exhausted.
 */
export async function planCampaignAward(scope: WriteScope, raw: CampaignAwardInput) {
  const input = CampaignAwardInput.parse(raw);
  const { db } = scope;
  const { program, member } = await loadProgramAndMember(scope);
  requireActive(member);
  const period = budgetPeriodOf(scope.now, program.timeZone);
  const [campaignRows, budgetRows, tierRows, rewardRows] = await db.batch([
    db
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.programId, scope.programId), eq(campaigns.id, input.campaignId)))
      .limit(1),
    db
      .select()
      .from(budgets)
      .where(and(eq(budgets.programId, scope.programId), eq(budgets.period, period)))
      .limit(1),
    db
      .select({ name: tiers.name })
      .from(tiers)
      .where(eq(tiers.id, member.tierId ?? ""))
      .limit(1),
    db
      .select()
      .from(rewards)
      .where(and(eq(rewards.programId, scope.programId), eq(rewards.id, input.rewardId ?? "")))
      .limit(1),
  ]);
  const campaign = campaignRows[0];
  if (!campaign) throw notFound("Campaign");
  // An ended campaign still honours occurrences it fired while active (e.g. a finished broadcast).
  if (campaign.status === "draft" || campaign.status === "paused")
    throw new AppError("conflict", `Campaign is ${campaign.status}; it does not award`);
  const reward = input.rewardId ? rewardRows[0] : null;
  if (input.rewardId && !reward) throw notFound("Reward");
  if (reward) requireGiftable(reward, scope.now);

  const costMinor = pointsCostMinor(input.points, program.pointCostPer1000) + (reward?.costMinor ?? 0);
  if (campaign.budgetMinor !== null && campaign.spentMinor + costMinor > campaign.budgetMinor) {
    throw new AppError(
      "budget_exhausted",
      `Campaign budget exhausted: ${campaign.spentMinor} of ${campaign.budgetMinor} spent, this award costs ${costMinor}`,
      { budgetMinor: campaign.budgetMinor, spentMinor: campaign.spentMinor, costMinor },
    );
  }
  const budget = budgetRows[0];
  if (budget && budget.spentMinor + costMinor > budget.amountMinor) {
    throw new AppError("budget_exhausted", `Program budget for ${period} exhausted: ${budget.spentMinor} of ${budget.amountMinor} spent`, {
      period,
      amountMinor: budget.amountMinor,
      spentMinor: budget.spentMinor,
      costMinor,
    });
  }

  const statements: Statement[] = [];
  const entries = [];
  let delta: MemberDelta = {};
  if (input.points > 0) {
    const e = entry(scope, {
      type: "earn",
      points: input.points,
      reason: `Campaign: ${campaign.name}`,
      sourceType: "campaign",
      sourceId: campaign.id,
      metadata: {
        occurrenceKey: input.occurrenceKey,
        variantKey: input.variantKey,
        costMinor: pointsCostMinor(input.points, program.pointCostPer1000),
      },
    });
    const lot = newLot(scope, program, member, { entryId: e.row.id, points: input.points, hold: false, owed: owedBy(member) });
    delta = { ...lot.delta, earned: input.points };
    entries.push(e.view, ...(lot.repayment ? [lot.repayment] : []));
    statements.push(
      e.statement,
      ...lot.statements,
      memberDelta(scope, delta),
      outbox(scope, "points.earned", {
        points: input.points,
        reason: e.row.reason,
        entryId: e.row.id,
        sourceType: "campaign",
        campaignId: campaign.id,
      }),
    );
  }
  let coupon: { id: string; code: string; expiresAt: string | null } | null = null;
  if (reward) {
    const gift = giftCoupon(scope, reward, { campaignId: campaign.id });
    coupon = gift.coupon;
    statements.push(...gift.statements);
  }
  if (costMinor > 0) {
    // Unconditional increments: the guard triggers fail the batch rather than silently skip.
    statements.push(
      db
        .update(campaigns)
        .set({ spentMinor: sql`${campaigns.spentMinor} + ${costMinor}` })
        .where(eq(campaigns.id, campaign.id)) as Statement,
    );
    if (budget)
      statements.push(
        db
          .update(budgets)
          .set({ spentMinor: sql`${budgets.spentMinor} + ${costMinor}` })
          .where(eq(budgets.id, budget.id)) as Statement,
      );
  }
  statements.push(
    db
      .update(campaignOccurrences)
      .set({ outcome: "awarded" })
      .where(
        and(
          eq(campaignOccurrences.campaignId, campaign.id),
          eq(campaignOccurrences.memberId, scope.memberId),
          eq(campaignOccurrences.occurrenceKey, input.occurrenceKey),
        ),
      ) as Statement,
  );
  const balance = balanceAfter(member, delta);
  const fields = templateFields(
    {
      ...member,
      pointsBalance: balance.total,
      pointsPending: balance.pending,
      lifetimeEarned: member.lifetimeEarned + input.points,
      tierName: tierRows[0]?.name ?? null,
    },
    campaign.name,
    { ...input.context, points: input.points, couponCode: coupon?.code ?? null, rewardName: reward?.name ?? null },
  );
  const queued = messageInserts(db, {
    programId: scope.programId,
    campaignId: campaign.id,
    priority: Number((campaign.definition as { priority?: unknown }).priority ?? 0) || 0,
    member: { ...member, tierName: tierRows[0]?.name ?? null },
    actions: input.messages,
    fields,
    now: scope.now,
  });
  statements.push(...queued.map((m) => m.statement as Statement));
  return {
    status: 201 as const,
    body: {
      campaignId: campaign.id,
      occurrenceKey: input.occurrenceKey,
      points: input.points,
      costMinor,
      coupon,
      entries,
      balance,
      messages: queued.map((m) => ({ id: m.row.id, channel: m.row.channel, status: m.row.status })),
    },
    statements,
  };
}
