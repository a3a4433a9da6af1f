import { and, asc, eq, inArray, or } from "drizzle-orm";
import {
  auditLog,
  campaignOccurrences,
  campaigns,
  coupons,
  experimentExposures,
  experiments,
  feedback,
  ledgerEntries,
  members,
  messages,
  orders,
  pointLots,
  referrals,
  segmentMembers,
  segments,
  tierHistory,
} from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";

/**
 * Data subject access: everything held about one member as one JSON document — profile and
 * consent, scores, tier and its history, the ledger and lots, orders, feedback, messages,
 * campaign occurrences, experiment groups, referrals, coupons, segments, and the audit trail
 * of admin changes to them. One read batch; the access itself is audited.
 */
export async function exportMember({ ctx, input }: { ctx: ServiceContext; input: { programId: string; memberId: string } }) {
  const { db } = ctx;
  const { programId, memberId } = input;
  const [
    memberRows,
    ledger,
    lots,
    orderRows,
    feedbackRows,
    messageRows,
    occurrenceRows,
    exposureRows,
    referralRows,
    couponRows,
    segmentRows,
    tierRows,
    auditRows,
  ] = await db.batch([
    db
      .select()
      .from(members)
      .where(and(eq(members.programId, programId), eq(members.id, memberId)))
      .limit(1),
    db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.memberId, memberId), eq(ledgerEntries.programId, programId)))
      .orderBy(asc(ledgerEntries.id)),
    db
      .select()
      .from(pointLots)
      .where(and(eq(pointLots.memberId, memberId), eq(pointLots.programId, programId)))
      .orderBy(asc(pointLots.createdAt)),
    db
      .select()
      .from(orders)
      .where(and(eq(orders.memberId, memberId), eq(orders.programId, programId)))
      .orderBy(asc(orders.occurredAt)),
    db
      .select()
      .from(feedback)
      .where(and(eq(feedback.memberId, memberId), eq(feedback.programId, programId)))
      .orderBy(asc(feedback.createdAt)),
    db
      .select()
      .from(messages)
      .where(and(eq(messages.memberId, memberId), eq(messages.programId, programId)))
      .orderBy(asc(messages.createdAt)),
    db
      .select()
      .from(campaignOccurrences)
      .where(
        and(
          inArray(
            campaignOccurrences.campaignId,
            db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.programId, programId)),
          ),
          eq(campaignOccurrences.memberId, memberId),
        ),
      ),
    db
      .select()
      .from(experimentExposures)
      .where(
        and(
          inArray(
            experimentExposures.experimentId,
            db.select({ id: experiments.id }).from(experiments).where(eq(experiments.programId, programId)),
          ),
          eq(experimentExposures.memberId, memberId),
        ),
      ),
    db
      .select()
      .from(referrals)
      .where(and(eq(referrals.programId, programId), or(eq(referrals.referrerId, memberId), eq(referrals.refereeId, memberId)))),
    db
      .select()
      .from(coupons)
      .where(and(eq(coupons.memberId, memberId), eq(coupons.programId, programId))),
    db
      .select({ segmentId: segmentMembers.segmentId, name: segments.name, addedAt: segmentMembers.addedAt })
      .from(segmentMembers)
      .innerJoin(segments, eq(segments.id, segmentMembers.segmentId))
      .where(and(eq(segmentMembers.memberId, memberId), eq(segmentMembers.programId, programId))),
    db
      .select()
      .from(tierHistory)
      .where(and(eq(tierHistory.memberId, memberId), eq(tierHistory.programId, programId)))
      .orderBy(asc(tierHistory.createdAt)),
    db
      .select({
        action: auditLog.action,
        before: auditLog.before,
        after: auditLog.after,
        keyId: auditLog.keyId,
        createdAt: auditLog.createdAt,
      })
      .from(auditLog)
      .where(and(eq(auditLog.programId, programId), eq(auditLog.entityType, "member"), eq(auditLog.entityId, memberId)))
      .orderBy(asc(auditLog.createdAt)),
  ]);
  const member = memberRows[0];
  if (!member) throw notFound("Member");
  const strip = <T extends Record<string, unknown>>(row: T) => {
    const { programId: _p, ...rest } = row as T & { programId?: unknown };
    return rest;
  };
  const {
    rfmR,
    rfmF,
    rfmM,
    valueSegment,
    churnProbability,
    expectedPurchases90d,
    expectedOrderValue,
    clv12m,
    scoredAt,
    stage,
    stageSince,
    lastNps,
    feedbackTags,
    consent,
    ...profile
  } = strip(member);
  const exportedAt = nowIso();
  await auditStatement(ctx, { action: "member.exported", entityType: "member", entityId: memberId, after: { exportedAt } });
  return {
    exportedAt,
    programId,
    member: profile,
    consent,
    scores: {
      stage,
      stageSince,
      rfm: { r: rfmR, f: rfmF, m: rfmM },
      valueSegment,
      churnProbability,
      expectedPurchases90d,
      expectedOrderValue,
      clv12m,
      scoredAt,
      lastNps,
      feedbackTags,
    },
    tierHistory: tierRows.map(strip),
    ledger: ledger.map(strip),
    lots: lots.map(strip),
    orders: orderRows.map(strip),
    feedback: feedbackRows.map(strip),
    messages: messageRows.map(strip),
    campaignOccurrences: occurrenceRows.map((r) => strip(r as Record<string, unknown>)),
    experiments: exposureRows.map((r) => strip(r as Record<string, unknown>)),
    referrals: referralRows.map(strip),
    coupons: couponRows.map(strip),
    segments: segmentRows,
    auditTrail: auditRows,
  };
}
