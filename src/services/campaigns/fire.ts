import { and, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { campaignOccurrences, campaigns, experiments } from "../../../schema";
import type { Consent } from "../../../schema/members";
import { type Database, database } from "../../db/client";
import { actionsFor, type CampaignAction, type ExperimentDefinition, type MessageAction } from "../../domain/campaigns/definition";
import { entryStepOf } from "../../domain/campaigns/journey";
import { assignVariant } from "../../domain/experiments";
import type { Env } from "../../env";
import { systemKeys } from "../../ledger/system-keys";
import { mapLimit } from "../../lib/concurrency";
import { newId } from "../../lib/ids";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { definitionOf, type LoadedCampaign } from "./campaigns";
import { type MemberForMessage, messageInserts, templateFields } from "./message-rows";

/** One member a campaign may fire for, with the key that makes this firing unique. */
export type Candidate = { memberId: string; occurrenceKey: string; context?: Record<string, unknown> };
export type FireCounts = {
  fired: number;
  holdout: number;
  awarded: number;
  budgetExhausted: number;
  failed: number;
  ineligible: number;
  duplicate: number;
};

const CHUNK = 200;
const AWARD_CONCURRENCY = 8;
/** Pending awards older than this are retried by the sweep (the first attempt is the firing itself). */
const AWARD_RETRY_AFTER_MS = 2 * 60_000;
/** Retries of one award before it is given up as `failed` (and alerted): backing off from 2 min to 6 h, some 15 hours in all. */
export const MAX_AWARD_RETRIES = 10;
const awardRetryDelayMs = (failures: number) => Math.min(6 * 3_600_000, AWARD_RETRY_AFTER_MS * 2 ** Math.max(0, failures - 1));

export const emptyCounts = (): FireCounts => ({
  fired: 0,
  holdout: 0,
  awarded: 0,
  budgetExhausted: 0,
  failed: 0,
  ineligible: 0,
  duplicate: 0,
});
export function addCounts(a: FireCounts, b: FireCounts): FireCounts {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof FireCounts>) out[k] += b[k];
  return out;
}

/** The message facts (consent still JSON text, as read) plus what eligibility needs. */
type EligibilityRow = Omit<MemberForMessage, "consent"> & {
  status: string;
  consent: string;
  recent: number;
  inAudience: number;
  stickyVariant: string | null;
  activeRuns: number;
};

/** Members' facts for eligibility and templates in one read: audience, recent firings (cap), sticky variant. */
async function eligibility(db: Database, c: LoadedCampaign, memberIds: string[], now: string): Promise<Map<string, EligibilityRow>> {
  const capSince = c.def.frequencyCap ? new Date(Date.parse(now) - c.def.frequencyCap.perDays * 86_400_000).toISOString() : now;
  const audience = c.def.audience.segmentId
    ? sql`EXISTS (SELECT 1 FROM segment_members s WHERE s.segment_id = ${c.def.audience.segmentId} AND s.member_id = m.id)`
    : sql`1`;
  const rows = await db.all<EligibilityRow>(sql`
    SELECT m.id AS id, m.status AS status, m.name AS name, m.external_id AS externalId, m.email AS email,
      m.points_balance AS pointsBalance, m.points_pending AS pointsPending, m.lifetime_earned AS lifetimeEarned,
      m.stage AS stage, m.consent AS consent, t.name AS tierName,
      (SELECT COUNT(*) FROM campaign_occurrences o WHERE o.campaign_id = ${c.row.id} AND o.member_id = m.id AND o.created_at >= ${capSince}) AS recent,
      ${audience} AS inAudience,
      (SELECT x.variant_key FROM experiment_exposures x WHERE x.experiment_id = ${c.experiment?.id ?? ""} AND x.member_id = m.id) AS stickyVariant,
      ${c.def.journey ? sql`(SELECT COUNT(*) FROM journey_runs r WHERE r.campaign_id = ${c.row.id} AND r.member_id = m.id AND r.status = 'active')` : sql`0`} AS activeRuns
    FROM members m LEFT JOIN tiers t ON t.id = m.tier_id
    WHERE m.program_id = ${c.row.programId} AND m.id IN (${sql.join(
      memberIds.map((id) => sql`${id}`),
      sql`, `,
    )})`);
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The group a member is in: while the experiment runs, their sticky (already exposed) or
 * deterministic assignment — "holdout" for the held-out; once stopped, the rolled-out winner
 * for everyone (null = the campaign's own actions); no experiment: null.
 */
function groupOf(c: LoadedCampaign, memberId: string, sticky: string | null): { variantKey: string | null; expose: boolean } {
  if (!c.experiment) return { variantKey: null, expose: false };
  if (c.experiment.status !== "running") return { variantKey: c.experiment.winner, expose: false };
  if (sticky) return { variantKey: sticky, expose: false };
  const e = c.def.experiment as ExperimentDefinition;
  const a = assignVariant({
    experimentId: c.experiment.id,
    memberId,
    variants: e.variants.map((v) => ({ key: v.key, weight: v.weight })),
    holdoutPct: e.holdoutPct,
  });
  return { variantKey: a.variantKey ?? "holdout", expose: true };
}

const needsLedger = (actions: CampaignAction[]) => actions.some((a) => a.type === "award_points" || a.type === "issue_reward");
const messagesOf = (actions: CampaignAction[]) => actions.filter((a): a is MessageAction => a.type === "send_message");

function toMemberForMessage(r: EligibilityRow): MemberForMessage {
  let consent: Consent;
  try {
    consent = JSON.parse(r.consent) as Consent;
  } catch {
    consent = { email: false, sms: false, push: false, line: false, wechat: false };
  }
  return {
    id: r.id,
    name: r.name,
    externalId: r.externalId,
    email: r.email,
    pointsBalance: Number(r.pointsBalance),
    pointsPending: Number(r.pointsPending),
    lifetimeEarned: Number(r.lifetimeEarned),
    stage: r.stage,
    consent,
    tierName: r.tierName,
  };
}

type Accepted = { candidate: Candidate; occurrenceId: string; variantKey: string | null; actions: CampaignAction[] };

/**
 * Fire a campaign for candidates, at most once per (campaign, member, occurrence key):
 * 1. one read for eligibility (active member, audience, frequency cap, sticky variant);
 * 2. one batch per chunk: the occurrence (ON CONFLICT DO NOTHING), and — only if that very
 *    row was inserted — the experiment exposure and, for message-only treatments, the messages;
 * 3. awards (points, rewards) through each member's ledger object with the idempotency key
 *    campaign:<campaign>:<member>:<occurrence>; the object marks the occurrence awarded and
 *    queues its messages in its own batch, so a member never hears of points they did not get.
 */
export async function fireCampaign(env: Env, c: LoadedCampaign, candidates: Candidate[], now: Date): Promise<FireCounts> {
  let counts = emptyCounts();
  for (let i = 0; i < candidates.length; i += CHUNK)
    counts = addCounts(counts, await fireChunk(env, c, candidates.slice(i, i + CHUNK), now));
  return counts;
}

async function fireChunk(env: Env, c: LoadedCampaign, candidates: Candidate[], now: Date): Promise<FireCounts> {
  const db = database(env);
  const at = now.toISOString();
  const counts = emptyCounts();
  if (candidates.length === 0) return counts;
  const facts = await eligibility(db, c, [...new Set(candidates.map((x) => x.memberId))], at);
  const firedInChunk = new Map<string, number>();
  const journeyEntered = new Set<string>();
  const seen = new Set<string>();
  const accepted: Accepted[] = [];
  const statements = [];
  for (const candidate of candidates) {
    const dedupe = `${candidate.memberId}|${candidate.occurrenceKey}`;
    const m = facts.get(candidate.memberId);
    const already = (m ? Number(m.recent) : 0) + (firedInChunk.get(candidate.memberId) ?? 0);
    if (seen.has(dedupe)) {
      counts.duplicate++;
      continue;
    }
    seen.add(dedupe);
    // A member walks a journey once at a time: a new trigger while a run is active is not a second run.
    const inJourney = m ? Number(m.activeRuns) > 0 || journeyEntered.has(m.id) : false;
    if (m?.status !== "active" || !Number(m.inAudience) || inJourney || (c.def.frequencyCap && already >= c.def.frequencyCap.max)) {
      counts.ineligible++;
      continue;
    }
    const group = groupOf(c, m.id, m.stickyVariant);
    const actions = actionsFor(c.def, group.variantKey);
    const occurrenceId = newId("occ");
    const journey = c.def.journey;
    const outcome = group.variantKey === "holdout" ? "holdout" : journey ? "journey" : needsLedger(actions) ? "pending" : "done";
    if (journey) journeyEntered.add(m.id);
    const context = candidate.context ?? {};
    firedInChunk.set(m.id, (firedInChunk.get(m.id) ?? 0) + 1);
    accepted.push({ candidate, occurrenceId, variantKey: group.variantKey, actions });
    statements.push(
      db
        .insert(campaignOccurrences)
        .values({
          id: occurrenceId,
          programId: c.row.programId,
          campaignId: c.row.id,
          memberId: m.id,
          occurrenceKey: candidate.occurrenceKey,
          variantKey: group.variantKey,
          outcome,
          context,
          createdAt: at,
        })
        .onConflictDoNothing(),
    );
    const inserted = sql`EXISTS (SELECT 1 FROM campaign_occurrences WHERE id = ${occurrenceId})`;
    if (group.expose && c.experiment) {
      statements.push(
        db.run(sql`INSERT INTO experiment_exposures (experiment_id, member_id, program_id, variant_key, exposed_at)
          SELECT ${c.experiment.id}, ${m.id}, ${c.row.programId}, ${group.variantKey}, ${at} WHERE ${inserted} ON CONFLICT DO NOTHING`),
      );
    }
    if (outcome === "journey" && journey) {
      const variant = c.def.experiment?.variants.find((v) => v.key === group.variantKey);
      statements.push(
        db.run(sql`INSERT INTO journey_runs (id, program_id, campaign_id, member_id, occurrence_key, variant_key, status, step_id, next_run_at, context, entered_at, updated_at)
          SELECT ${newId("jrn")}, ${c.row.programId}, ${c.row.id}, ${m.id}, ${candidate.occurrenceKey}, ${group.variantKey}, 'active',
            ${entryStepOf(journey, variant?.entryStepId)}, ${at}, ${JSON.stringify(context)}, ${at}, ${at} WHERE ${inserted}
          ON CONFLICT DO NOTHING`),
      );
    }
    if (outcome === "done") {
      const member = toMemberForMessage(m);
      for (const msg of messageInserts(db, {
        programId: c.row.programId,
        campaignId: c.row.id,
        priority: c.def.priority,
        member,
        actions: messagesOf(actions),
        fields: templateFields(member, c.row.name, context),
        now: at,
      })) {
        const r = msg.row;
        statements.push(
          db.run(sql`INSERT INTO messages (id, program_id, campaign_id, member_id, channel, body, status, attempts, next_attempt_at, last_error, created_at, priority)
            SELECT ${r.id}, ${r.programId}, ${r.campaignId}, ${r.memberId}, ${r.channel}, ${r.body}, ${r.status}, 0, ${r.nextAttemptAt}, ${r.lastError}, ${r.createdAt}, ${r.priority} WHERE ${inserted}`),
        );
      }
    }
  }
  if (statements.length > 0) await db.batch(statements as never);
  if (accepted.length === 0) return counts;

  // Which of our occurrence rows won (a concurrent or earlier run may hold the key already).
  const won = new Set(
    (
      await db
        .select({ id: campaignOccurrences.id })
        .from(campaignOccurrences)
        .where(
          inArray(
            campaignOccurrences.id,
            accepted.map((a) => a.occurrenceId),
          ),
        )
    ).map((r) => r.id),
  );
  const fired = accepted.filter((a) => won.has(a.occurrenceId));
  counts.duplicate += accepted.length - fired.length;
  counts.fired += fired.length;
  counts.holdout += fired.filter((a) => a.variantKey === "holdout").length;
  const awards = fired.filter((a) => a.variantKey !== "holdout" && needsLedger(a.actions));
  const results = await mapLimit(awards, AWARD_CONCURRENCY, (a) =>
    award(env, db, c, a.candidate.memberId, a.candidate.occurrenceKey, a.variantKey, a.actions, a.candidate.context ?? {}),
  );
  for (const r of results) counts[r === "awarded" || r === "budgetExhausted" ? r : "failed"]++;
  return counts;
}

/** An award's result: done, refused for good (recorded on the occurrence), or a transient failure left pending for the sweep. */
type AwardOutcome = "awarded" | "budgetExhausted" | "refused" | "retry";

/** One award through the member's ledger object; a refusal is recorded on the occurrence, a transient failure left pending for the sweep. */
async function award(
  env: Env,
  db: Database,
  c: LoadedCampaign,
  memberId: string,
  occurrenceKey: string,
  variantKey: string | null,
  actions: CampaignAction[],
  context: Record<string, unknown>,
): Promise<AwardOutcome> {
  const points = actions.find((a) => a.type === "award_points");
  const reward = actions.find((a) => a.type === "issue_reward");
  const input = {
    campaignId: c.row.id,
    occurrenceKey,
    variantKey,
    points: points?.type === "award_points" ? points.points : 0,
    rewardId: reward?.type === "issue_reward" ? reward.rewardId : null,
    messages: messagesOf(actions),
    context,
  };
  // The hash covers what the award is, not how its message renders, so a retry always replays.
  const req = await systemWriteRequest({
    programId: c.row.programId,
    memberId,
    idempotencyKey: systemKeys.campaign(c.row.id, memberId, occurrenceKey),
    operation: "campaign.award",
    body: { campaignId: input.campaignId, occurrenceKey, variantKey, points: input.points, rewardId: input.rewardId },
  });
  const result = await memberLedger(env, c.row.programId, memberId)
    .awardCampaign(req, input)
    .catch((err: unknown) => {
      console.error(JSON.stringify({ level: "error", job: "campaigns.award", campaignId: c.row.id, memberId, message: String(err) }));
      return null;
    });
  if (!result) return "retry";
  if (result.ok) return "awarded";
  // Transient (a concurrent change, the campaign paused meanwhile): stay pending, the sweep retries.
  if (result.code === "conflict" || result.code === "internal_error" || result.code === "service_unavailable") return "retry";
  const outcome = result.code === "budget_exhausted" ? "budget_exhausted" : `refused:${result.code}`;
  await db
    .update(campaignOccurrences)
    .set({ outcome })
    .where(
      and(
        eq(campaignOccurrences.campaignId, c.row.id),
        eq(campaignOccurrences.memberId, memberId),
        eq(campaignOccurrences.occurrenceKey, occurrenceKey),
        eq(campaignOccurrences.outcome, "pending"),
      ),
    );
  return result.code === "budget_exhausted" ? "budgetExhausted" : "refused";
}

/**
 * Retry awards left pending (the ledger object was unreachable, or a concurrent change made
 * it give up). The idempotency key makes a retry of an award that did commit a no-op replay.
 * Awards of a paused campaign wait for it to resume; a deleted campaign's are cancelled. An
 * award that keeps failing is skipped past: each failure records its attempt and next due time
 * (backing off), awards tried least go first, and after MAX_AWARD_RETRIES it becomes `failed`
 * with an alert, so one stuck award never holds the others.
 */
export async function retryPendingAwards(env: Env, now: Date, batchSize: number, scope: { programId?: string } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const before = new Date(now.getTime() - AWARD_RETRY_AFTER_MS).toISOString();
  const pending = await db
    .select({ occurrence: campaignOccurrences, campaign: campaigns, experiment: experiments })
    .from(campaignOccurrences)
    .leftJoin(campaigns, eq(campaigns.id, campaignOccurrences.campaignId))
    .leftJoin(experiments, eq(experiments.campaignId, campaignOccurrences.campaignId))
    .where(
      and(
        eq(campaignOccurrences.outcome, "pending"),
        lt(campaignOccurrences.createdAt, before),
        or(isNull(campaignOccurrences.nextAttemptAt), lte(campaignOccurrences.nextAttemptAt, at)),
        sql`COALESCE(${campaigns.status}, '') NOT IN ('draft', 'paused')`,
        scope.programId ? eq(campaignOccurrences.programId, scope.programId) : undefined,
      ),
    )
    .orderBy(campaignOccurrences.attempts, campaignOccurrences.createdAt)
    .limit(batchSize);
  const counts = { retried: 0, awarded: 0, cancelled: 0, failed: 0 };
  await mapLimit(pending, AWARD_CONCURRENCY, async ({ occurrence: o, campaign, experiment }) => {
    if (!campaign) {
      await db
        .update(campaignOccurrences)
        .set({ outcome: "cancelled" })
        .where(and(eq(campaignOccurrences.id, o.id), eq(campaignOccurrences.outcome, "pending")));
      counts.cancelled++;
      return;
    }
    const c: LoadedCampaign = { row: campaign, def: definitionOf(campaign), experiment };
    counts.retried++;
    const outcome = await award(env, db, c, o.memberId, o.occurrenceKey, o.variantKey, actionsFor(c.def, o.variantKey), o.context ?? {});
    if (outcome === "awarded") counts.awarded++;
    else counts.failed++;
    if (outcome === "retry") await recordAwardFailure(db, o, now);
  });
  return counts;
}

async function recordAwardFailure(db: Database, o: typeof campaignOccurrences.$inferSelect, now: Date) {
  const attempts = o.attempts + 1;
  const givenUp = attempts >= MAX_AWARD_RETRIES;
  if (givenUp)
    console.error(
      JSON.stringify({
        level: "alert",
        job: "campaigns.awards.retry",
        programId: o.programId,
        campaignId: o.campaignId,
        memberId: o.memberId,
        occurrenceKey: o.occurrenceKey,
        attempts,
        message: "award given up after repeated failures; marked failed",
      }),
    );
  await db
    .update(campaignOccurrences)
    .set({
      attempts,
      nextAttemptAt: givenUp ? null : new Date(now.getTime() + awardRetryDelayMs(attempts)).toISOString(),
      ...(givenUp ? { outcome: "failed" } : {}),
    })
    .where(and(eq(campaignOccurrences.id, o.id), eq(campaignOccurrences.outcome, "pending")));
}
