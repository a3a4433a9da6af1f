import { eq, inArray, sql } from "drizzle-orm";
import { campaigns, members, programs, tiers } from "../../../schema";
import type { Consent } from "../../../schema/members";
import { type Database, database } from "../../db/client";
import type { CampaignDefinition } from "../../domain/campaigns/definition";
import { type ExitCondition, type JourneyDefinition, type JourneyStep, programClock, waitUntil } from "../../domain/campaigns/journey";
import { evaluateSegmentRule, memberFactsFromRow } from "../../domain/segments/rule";
import type { Env } from "../../env";
import { systemKeys } from "../../ledger/system-keys";
import { mapLimit } from "../../lib/concurrency";
import { newId } from "../../lib/ids";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { suspendedPrograms } from "../tenants/status";
import { definitionOf } from "./campaigns";
import { type MemberForMessage, messageInserts, templateFields } from "./message-rows";

/** A claimed run is leased for this long; a crashed advance is picked up again after it. */
const LEASE_MS = 5 * 60_000;
const MAX_ROUNDS = 10;
const RUN_CONCURRENCY = 8;
/** A paused journey's runs are looked at again this much later. */
const PAUSED_RECHECK_MS = 15 * 60_000;
/** An award the ledger object could not take now is retried after this. */
const AWARD_RETRY_MS = 2 * 60_000;

type RunRow = {
  id: string;
  programId: string;
  campaignId: string;
  memberId: string;
  occurrenceKey: string;
  variantKey: string | null;
  stepId: string | null;
  context: string | null;
  enteredAt: string;
};

type MemberRow = typeof members.$inferSelect & { tierName: string | null; tierRank: number | null };
type Loaded = {
  campaign: { id: string; name: string; status: string; def: CampaignDefinition; journey: JourneyDefinition } | null;
  member: MemberRow | undefined;
  timeZone: string;
  unsubscribedSince: string | null;
};

export type AdvanceCounts = {
  runs: number;
  steps: number;
  sent: number;
  waiting: number;
  completed: number;
  exited: number;
  retrying: number;
};

/**
 * Advance due journey runs (every minute): claim a bounded page of runs whose next step is due
 * (leasing them by moving next_run_at forward, so an overlapping run does not take them too),
 * check the journey's exit conditions, then execute steps until a wait, the end, or an award
 * the ledger cannot take now. Each step is one batch that inserts its journey_step_runs row
 * (unique per run and step) together with its effects, guarded on that very row: a replayed
 * step does nothing twice. Awards go through the member's ledger object with an idempotency
 * key per (campaign, member, occurrence, step).
 */
export async function advanceJourneys(env: Env, now: Date, batchSize: number, scope: { programId?: string } = {}): Promise<AdvanceCounts> {
  const db = database(env);
  const at = now.toISOString();
  const totals: AdvanceCounts = { runs: 0, steps: 0, sent: 0, waiting: 0, completed: 0, exited: 0, retrying: 0 };
  const program = scope.programId ? sql`AND program_id = ${scope.programId}` : sql``;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const lease = new Date(now.getTime() + LEASE_MS).toISOString();
    const claimed = await db.all<RunRow>(sql`
      UPDATE journey_runs SET next_run_at = ${lease}
      WHERE id IN (SELECT id FROM journey_runs WHERE status = 'active' AND next_run_at <= ${at} ${program}
          AND program_id NOT IN (${suspendedPrograms}) ORDER BY next_run_at LIMIT ${batchSize})
        AND status = 'active' AND next_run_at <= ${at}
      RETURNING id, program_id AS programId, campaign_id AS campaignId, member_id AS memberId, occurrence_key AS occurrenceKey,
        variant_key AS variantKey, step_id AS stepId, context, entered_at AS enteredAt`);
    if (claimed.length === 0) break;
    totals.runs += claimed.length;
    const loaded = await loadFacts(db, claimed);
    const outcomes = await mapLimit(claimed, RUN_CONCURRENCY, (run) =>
      advanceRun(env, db, run, loaded(run), now).catch((err: unknown) => {
        console.error(JSON.stringify({ level: "error", job: "journeys.advance", runId: run.id, message: String(err) }));
        // Retried once the lease runs out.
        return { steps: 0, sent: 0, end: "retrying" as const };
      }),
    );
    for (const o of outcomes) {
      totals.steps += o.steps;
      totals.sent += o.sent;
      totals[o.end]++;
    }
    if (claimed.length < batchSize) break;
  }
  return totals;
}

/** Campaigns, members (with tier), program time zones and unsubscribes for a page of runs: one read batch. */
async function loadFacts(db: Database, runs: RunRow[]) {
  const campaignIds = [...new Set(runs.map((r) => r.campaignId))];
  const memberIds = [...new Set(runs.map((r) => r.memberId))];
  const programIds = [...new Set(runs.map((r) => r.programId))];
  const earliest = runs.map((r) => r.enteredAt).sort()[0];
  const [campaignRows, memberRows, programRows, unsubscribes] = await db.batch([
    db.select().from(campaigns).where(inArray(campaigns.id, campaignIds)),
    db
      .select({ member: members, tierName: tiers.name, tierRank: tiers.rank })
      .from(members)
      .leftJoin(tiers, eq(tiers.id, members.tierId))
      .where(inArray(members.id, memberIds)),
    db.select({ id: programs.id, timeZone: programs.timeZone }).from(programs).where(inArray(programs.id, programIds)),
    db.all<{ memberId: string; at: string }>(sql`
      SELECT member_id AS memberId, MAX(occurred_at) AS at FROM message_events
      WHERE type = 'unsubscribed' AND occurred_at >= ${earliest} AND member_id IN (${sql.join(
        memberIds.map((id) => sql`${id}`),
        sql`, `,
      )}) GROUP BY member_id`),
  ]);
  const campaignById = new Map<string, Loaded["campaign"]>();
  for (const row of campaignRows) {
    try {
      const def = definitionOf(row);
      if (def.journey) campaignById.set(row.id, { id: row.id, name: row.name, status: row.status, def, journey: def.journey });
    } catch (err) {
      console.error(JSON.stringify({ level: "error", campaignId: row.id, message: `invalid campaign definition: ${String(err)}` }));
    }
  }
  const memberById = new Map(memberRows.map((r) => [r.member.id, { ...r.member, tierName: r.tierName, tierRank: r.tierRank }]));
  const zoneOf = new Map(programRows.map((p) => [p.id, p.timeZone]));
  const unsubscribedAt = new Map(unsubscribes.map((u) => [u.memberId, u.at]));
  return (run: RunRow): Loaded => ({
    campaign: campaignById.get(run.campaignId) ?? null,
    member: memberById.get(run.memberId),
    timeZone: zoneOf.get(run.programId) ?? "UTC",
    unsubscribedSince: unsubscribedAt.get(run.memberId) ?? null,
  });
}

/** Which exit condition (if any) the member met since entering. */
function exitReasonOf(exitOn: readonly ExitCondition[], run: Pick<RunRow, "enteredAt">, facts: Loaded): ExitCondition | null {
  const m = facts.member;
  if (!m) return null;
  for (const condition of exitOn) {
    if (condition === "purchase" && m.lastPurchaseAt && m.lastPurchaseAt > run.enteredAt) return condition;
    if (condition === "stage_change" && m.stageSince && m.stageSince > run.enteredAt) return condition;
    if (condition === "unsubscribe" && facts.unsubscribedSince && facts.unsubscribedSince >= run.enteredAt) return condition;
  }
  return null;
}

const forMessage = (m: MemberRow): MemberForMessage => ({
  id: m.id,
  name: m.name,
  externalId: m.externalId,
  email: m.email,
  pointsBalance: m.pointsBalance,
  pointsPending: m.pointsPending,
  lifetimeEarned: m.lifetimeEarned,
  stage: m.stage,
  consent: m.consent as Consent,
  tierName: m.tierName,
});

type RunEnd = "waiting" | "completed" | "exited" | "retrying";

async function advanceRun(
  env: Env,
  db: Database,
  run: RunRow,
  facts: Loaded,
  now: Date,
): Promise<{ steps: number; sent: number; end: RunEnd }> {
  const at = now.toISOString();
  const finish = async (status: "completed" | "exited", reason: string | null, steps = 0, sent = 0) => {
    await db.run(sql`UPDATE journey_runs SET status = ${status}, step_id = NULL, next_run_at = NULL, exit_reason = ${reason}, updated_at = ${at}
      WHERE id = ${run.id} AND status = 'active'`);
    return { steps, sent, end: status };
  };
  const c = facts.campaign;
  // An ended campaign (or one past its window) takes no new members, but runs already under
  // way finish, as a one-shot campaign's fired awards are honoured; pausing holds them.
  if (!c) return finish("exited", "campaign_gone");
  if (c.status === "draft" || c.status === "paused") {
    await reschedule(db, run.id, run.stepId, new Date(now.getTime() + PAUSED_RECHECK_MS), at);
    return { steps: 0, sent: 0, end: "waiting" };
  }
  let m = facts.member;
  if (m?.status !== "active") return finish("exited", `member_${m?.status ?? "missing"}`);
  const exit = exitReasonOf(c.journey.exitOn, run, facts);
  if (exit) return finish("exited", exit);

  const byId = new Map(c.journey.steps.map((s) => [s.id, s]));
  const context = parseContext(run.context);
  let stepId: string | null = run.stepId;
  let steps = 0;
  let sent = 0;
  // The graph is acyclic, so this ends within the number of steps.
  while (stepId) {
    const step: JourneyStep | undefined = byId.get(stepId);
    if (!step) return finish("exited", "step_removed", steps, sent);
    steps++;
    const stepRowId = newId("jst");
    const stepRow = (outcome: string) =>
      db.run(sql`INSERT INTO journey_step_runs (id, run_id, program_id, campaign_id, member_id, step_id, outcome, created_at)
        VALUES (${stepRowId}, ${run.id}, ${run.programId}, ${run.campaignId}, ${run.memberId}, ${step.id}, ${outcome}, ${at})
        ON CONFLICT DO NOTHING`);
    const ours = sql`EXISTS (SELECT 1 FROM journey_step_runs WHERE id = ${stepRowId})`;
    const moveTo = (next: string | null, nextRunAt: string | null) =>
      next
        ? db.run(
            sql`UPDATE journey_runs SET step_id = ${next}, next_run_at = ${nextRunAt}, updated_at = ${at} WHERE id = ${run.id} AND status = 'active'`,
          )
        : db.run(sql`UPDATE journey_runs SET status = 'completed', step_id = NULL, next_run_at = NULL, updated_at = ${at}
            WHERE id = ${run.id} AND status = 'active'`);
    switch (step.type) {
      case "send": {
        const member = forMessage(m);
        const [msg] = messageInserts(db, {
          programId: run.programId,
          campaignId: run.campaignId,
          member,
          actions: [step],
          fields: templateFields(member, c.name, context),
          now: at,
          priority: c.def.priority,
          journey: { runId: run.id, stepId: step.id },
        });
        const r = msg.row;
        await db.batch([
          stepRow(r.status === "pending" ? "sent" : r.status),
          db.run(sql`INSERT INTO messages (id, program_id, campaign_id, member_id, channel, body, status, attempts, next_attempt_at, last_error, created_at, journey_run_id, step_id, priority)
            SELECT ${r.id}, ${r.programId}, ${r.campaignId}, ${r.memberId}, ${r.channel}, ${r.body}, ${r.status}, 0, ${r.nextAttemptAt}, ${r.lastError}, ${r.createdAt}, ${run.id}, ${step.id}, ${r.priority}
            WHERE ${ours}`),
          moveTo(step.next ?? null, at),
        ]);
        if (r.status === "pending") sent++;
        stepId = step.next ?? null;
        break;
      }
      case "wait": {
        const until = waitUntil(step, now, programClock(facts.timeZone)).toISOString();
        await db.batch([stepRow("waited"), moveTo(step.next ?? null, until)]);
        return step.next ? { steps, sent, end: "waiting" } : { steps, sent, end: "completed" };
      }
      case "branch": {
        const taken = (await conditionHolds(db, step.condition, run, m, now)) ? "yes" : "no";
        const next = step[taken] ?? null;
        await db.batch([stepRow(taken), moveTo(next, at)]);
        stepId = next;
        break;
      }
      case "award": {
        const result = await awardStep(env, run, c.id, step, context);
        if (result === "retry") {
          await reschedule(db, run.id, step.id, new Date(now.getTime() + AWARD_RETRY_MS), at);
          return { steps, sent, end: "retrying" };
        }
        await db.batch([stepRow(result), moveTo(step.next ?? null, at)]);
        // Later messages show the balance after the award.
        if (result === "awarded") {
          const [fresh] = await db.select().from(members).where(eq(members.id, run.memberId)).limit(1);
          if (fresh) m = { ...m, ...fresh };
        }
        stepId = step.next ?? null;
        break;
      }
      case "exit": {
        await db.batch([
          stepRow("exited"),
          db.run(sql`UPDATE journey_runs SET status = 'completed', step_id = NULL, next_run_at = NULL, exit_reason = 'exit_step', updated_at = ${at}
            WHERE id = ${run.id} AND status = 'active'`),
        ]);
        return { steps, sent, end: "completed" };
      }
    }
  }
  return { steps, sent, end: "completed" };
}

const reschedule = (db: Database, runId: string, stepId: string | null, when: Date, at: string) =>
  db.run(
    sql`UPDATE journey_runs SET step_id = ${stepId}, next_run_at = ${when.toISOString()}, updated_at = ${at} WHERE id = ${runId} AND status = 'active'`,
  );

function parseContext(raw: string | null): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function conditionHolds(
  db: Database,
  condition: Extract<JourneyStep, { type: "branch" }>["condition"],
  run: RunRow,
  m: MemberRow,
  now: Date,
): Promise<boolean> {
  switch (condition.type) {
    case "purchased":
      return !!m.lastPurchaseAt && m.lastPurchaseAt > run.enteredAt;
    case "segment":
      return evaluateSegmentRule(condition.rule, memberFactsFromRow(m, { now: now.toISOString(), tierRank: m.tierRank }));
    case "opened":
    case "clicked": {
      // A click implies the message was opened, even when the provider reported no open.
      const types = condition.type === "opened" ? sql`('opened', 'clicked')` : sql`('clicked')`;
      const step = condition.stepId ? sql`AND g.step_id = ${condition.stepId}` : sql``;
      const [row] = await db.all<{ n: number }>(sql`
        SELECT COUNT(*) AS n FROM message_events e JOIN messages g ON g.id = e.message_id
        WHERE g.journey_run_id = ${run.id} ${step} AND e.type IN ${types}`);
      return Number(row?.n ?? 0) > 0;
    }
  }
}

/** Awards one step through the ledger object: "awarded", "refused:<code>" (recorded, the run goes on) or "retry". */
async function awardStep(
  env: Env,
  run: RunRow,
  campaignId: string,
  step: Extract<JourneyStep, { type: "award" }>,
  context: Record<string, unknown>,
): Promise<string> {
  const occurrenceKey = `${run.occurrenceKey}#${step.id}`;
  const body = { campaignId, occurrenceKey, variantKey: run.variantKey, points: step.points ?? 0, rewardId: step.rewardId ?? null };
  const req = await systemWriteRequest({
    programId: run.programId,
    memberId: run.memberId,
    idempotencyKey: systemKeys.campaign(campaignId, run.memberId, occurrenceKey),
    operation: "campaign.award",
    body,
  });
  const result = await memberLedger(env, run.programId, run.memberId)
    .awardCampaign(req, { ...body, messages: [], context })
    .catch((err: unknown) => {
      console.error(JSON.stringify({ level: "error", job: "journeys.award", runId: run.id, stepId: step.id, message: String(err) }));
      return null;
    });
  if (!result) return "retry";
  if (result.ok) return "awarded";
  if (result.code === "conflict" || result.code === "internal_error" || result.code === "service_unavailable") return "retry";
  return `refused:${result.code}`;
}
