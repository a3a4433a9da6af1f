import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { members, outboxEvents, tierHistory } from "../../../schema";
import type { Database } from "../../db/client";
import { addLocalDays, startOfLocalDay } from "../../domain/local-time";
import { unwrap } from "../../ledger/result";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { memberLedger } from "../ledger/write";
import { timeZoneOf } from "../program/local-day";
import { loadTiers } from "./ladder";

export const TierAssignmentSchema = z
  .object({
    tierId: z.string().min(1).max(64).openapi({ description: "The tier to assign; invite-only tiers are reached only this way" }),
    until: z.iso.date("until must be YYYY-MM-DD").openapi({
      description:
        "Last day of the assignment (a local date in the program's time zone, inclusive). Until its end the member is never moved below this tier; afterwards the tier is requalified as usual (with its grace days)",
    }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .openapi({ description: "Why: status match, invitation, goodwill…; audited and kept in the tier history" }),
  })
  .strict()
  .openapi("TierAssignment", {
    example: { tierId: "tier_01jd...", until: "2027-12-31", reason: "Status match: Gold at Example Air" },
  });
export type TierAssignment = z.infer<typeof TierAssignmentSchema>;

const MAX_YEARS = 10;

export type AppliedAssignment = {
  programId: string;
  memberId: string;
  tierId: string;
  tierName: string;
  /** Direction on the ladder compared with the member's tier at the time. */
  change: "upgrade" | "downgrade" | "unchanged";
  securedUntil: string;
  reason: string;
};

/**
 * Write an assignment: the member's tier, its end as the tier's secured-until and the
 * assignment floor, a tier_history row, a `tier.changed` event (when the tier moves) and the
 * audit row, in one batch.
 * Run inside the member's Durable Object (in turn with their ledger writes, whose tier upgrade
 * could otherwise overwrite it), or straight on the database where there is none.
 */
export type TierAssignmentWrite = {
  programId: string;
  memberId: string;
  tierId: string;
  tierName: string;
  tierRank: number;
  securedUntil: string;
  reason: string;
};

export async function applyTierAssignment(ctx: ServiceContext, input: TierAssignmentWrite): Promise<AppliedAssignment> {
  const { db } = ctx;
  const now = nowIso();
  const [member] = await db
    .select()
    .from(members)
    .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId)))
    .limit(1);
  if (!member) throw notFound("Member");
  if (member.status === "erased") throw new AppError("member_erased", "Member has been erased; no tier can be assigned");
  const ladder = await loadTiers(db, input.programId);
  const fromRank = ladder.find((t) => t.id === member.tierId)?.rank ?? -1;
  const change = member.tierId === input.tierId ? "unchanged" : input.tierRank > fromRank ? "upgrade" : "downgrade";
  const payload = {
    memberId: member.id,
    from: member.tierId,
    to: input.tierId,
    toName: input.tierName,
    change,
    securedUntil: input.securedUntil,
    assigned: true,
    reason: input.reason,
  };
  await db.batch([
    db
      .update(members)
      .set({
        tierId: input.tierId,
        ...(member.tierId === input.tierId ? {} : { tierSince: now }),
        tierSecuredUntil: input.securedUntil,
        assignedTierId: input.tierId,
        assignedTierUntil: input.securedUntil,
        updatedAt: now,
      })
      .where(eq(members.id, member.id)),
    db.insert(tierHistory).values({
      id: newId("th"),
      programId: input.programId,
      memberId: member.id,
      fromTierId: member.tierId,
      toTierId: input.tierId,
      change: "assignment",
      reason: input.reason,
      createdAt: now,
    }),
    // An event only when the tier moves; re-assigning the same tier only moves its end date.
    ...(change === "unchanged"
      ? []
      : [
          db.insert(outboxEvents).values({
            id: newId("evt"),
            programId: input.programId,
            memberId: member.id,
            type: "tier.changed",
            payload,
            createdAt: now,
          }),
        ]),
    auditStatement(ctx, {
      action: "member.tier_assigned",
      entityType: "member",
      entityId: member.id,
      before: {
        tierId: member.tierId,
        securedUntil: member.tierSecuredUntil,
        assignedTierId: member.assignedTierId,
        assignedUntil: member.assignedTierUntil,
      },
      after: { tierId: input.tierId, securedUntil: input.securedUntil, reason: input.reason },
    }),
  ]);
  return {
    programId: input.programId,
    memberId: member.id,
    tierId: input.tierId,
    tierName: input.tierName,
    change,
    securedUntil: input.securedUntil,
    reason: input.reason,
  };
}

/** The instant an assignment ending on local date `until` (inclusive) ends. */
async function assignmentEnd(db: Database, programId: string, until: string): Promise<string> {
  const end = new Date(startOfLocalDay(addLocalDays(until, 1), await timeZoneOf(db, programId))).toISOString();
  if (Date.parse(end) <= Date.now())
    throw new AppError("invalid_request", "until must be today or later", { fields: [{ path: "until", message: "in the past" }] });
  if (Date.parse(end) > Date.now() + MAX_YEARS * 366 * 86_400_000)
    throw new AppError("invalid_request", `until is at most ${MAX_YEARS} years ahead`, {
      fields: [{ path: "until", message: "too far ahead" }],
    });
  return end;
}

/**
 * Assign a tier to a member (status match, invite-only tier, goodwill) until a date. Audited,
 * emits `tier.changed` (with `assigned: true` and the reason); requalification never moves the
 * member below it before the date. Through the member's Durable Object when there is one.
 */
export async function assignTier({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string } & TierAssignment;
}): Promise<AppliedAssignment> {
  const ladder = await loadTiers(ctx.db, input.programId);
  const tier = ladder.find((t) => t.id === input.tierId);
  if (!tier) throw notFound("Tier");
  const securedUntil = await assignmentEnd(ctx.db, input.programId, input.until);
  const write = {
    programId: input.programId,
    memberId: input.memberId,
    tierId: tier.id,
    tierName: tier.name,
    tierRank: tier.rank,
    securedUntil,
    reason: input.reason,
  };
  if (!ctx.env.MEMBER_LEDGER) return applyTierAssignment(ctx, write);
  const actor = { keyId: ctx.principal?.keyId ?? null, requestId: ctx.requestId };
  return unwrap(await memberLedger(ctx.env, input.programId, input.memberId).assignTier(write, actor)).body as AppliedAssignment;
}
