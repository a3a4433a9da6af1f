import { and, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { channelSuppressions, members, messages, programs } from "../../../schema";
import type { Consent } from "../../../schema/members";
import { database } from "../../db/client";
import { admitUnderCaps, type ContactPolicy, minutesUntilQuietEnds, weekStartOf } from "../../domain/campaigns/contact-policy";
import type { Channel } from "../../domain/campaigns/definition";
import { messageRetryDelayMs, recipientFor } from "../../domain/campaigns/delivery";
import { localDate, localMinuteOfDay, localWeekday, startOfLocalDay } from "../../domain/local-time";
import type { Env } from "../../env";
import { mapLimit } from "../../lib/concurrency";
import type { ServiceContext } from "../../lib/context";
import { postOutbound } from "../../lib/outbound-fetch";
import { cursorPage } from "../../lib/pagination";
import { openSecret, secretContext } from "../../lib/secret-box";
import { signedHeaders } from "../../lib/signing";
import { suspendedPrograms } from "../tenants/status";
import { requireCampaign } from "./campaigns";
import { channelsOf } from "./channels";
import { contactPolicyOf } from "./contact-policy";

const CLAIM_LEASE_MS = 5 * 60_000;
const DELIVERY_TIMEOUT_MS = 10_000;
const SEND_CONCURRENCY = 10;
const MAX_ROUNDS = 10;

type Claimed = {
  id: string;
  programId: string;
  campaignId: string | null;
  memberId: string;
  channel: Channel;
  body: string;
  attempts: number;
  createdAt: string;
  priority: number;
};
type Outcome = {
  id: string;
  status:
    | "delivered"
    | "pending"
    | "failed"
    | "skipped_no_consent"
    | "skipped_no_endpoint"
    | "skipped_suppressed"
    | "skipped_contact_policy";
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
};

/**
 * Deliver due messages (every minute): claim a bounded page with a lease (so an overlapping
 * run does not send them twice), POST each, signed, to its program's channel endpoint, and
 * record the outcome. Failures retry with exponential backoff until MESSAGE_MAX_ATTEMPTS.
 * Consent is checked again at send time: a member who withdrew it since is skipped.
 */
export async function deliverDueMessages(env: Env, now: Date, batchSize: number, scope: { programId?: string } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const program = scope.programId ? sql`AND program_id = ${scope.programId}` : sql``;
  const totals = { claimed: 0, delivered: 0, retrying: 0, failed: 0, skipped: 0, deferred: 0 };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const lease = new Date(now.getTime() + CLAIM_LEASE_MS).toISOString();
    const claimed = await db.all<Claimed>(sql`
      UPDATE messages SET next_attempt_at = ${lease}
      WHERE id IN (SELECT id FROM messages WHERE status = 'pending' AND next_attempt_at <= ${at} ${program}
          AND program_id NOT IN (${suspendedPrograms}) ORDER BY next_attempt_at, member_id, priority DESC LIMIT ${batchSize})
        AND status = 'pending' AND next_attempt_at <= ${at}
      RETURNING id, program_id AS programId, campaign_id AS campaignId, member_id AS memberId, channel, body, attempts, created_at AS createdAt, priority`);
    if (claimed.length === 0) break;
    totals.claimed += claimed.length;
    const memberIds = [...new Set(claimed.map((m) => m.memberId))];
    const [memberRows, programRows, suppressionRows, recentRows] = await db.batch([
      db
        .select({
          id: members.id,
          externalId: members.externalId,
          email: members.email,
          phone: members.phone,
          status: members.status,
          consent: members.consent,
        })
        .from(members)
        .where(inArray(members.id, memberIds)),
      db
        .select({ id: programs.id, settings: programs.settings, timeZone: programs.timeZone })
        .from(programs)
        .where(inArray(programs.id, [...new Set(claimed.map((m) => m.programId))])),
      db
        .select({ memberId: channelSuppressions.memberId, channel: channelSuppressions.channel, reason: channelSuppressions.reason })
        .from(channelSuppressions)
        .where(inArray(channelSuppressions.memberId, memberIds)),
      // What the contact policy counts: deliveries in the last 8 days (a local week, whatever the zone).
      db
        .select({ memberId: messages.memberId, deliveredAt: messages.deliveredAt })
        .from(messages)
        .where(
          and(
            inArray(messages.memberId, memberIds),
            eq(messages.status, "delivered"),
            gte(messages.deliveredAt, new Date(now.getTime() - 8 * 86_400_000).toISOString()),
          ),
        ),
    ]);
    const memberById = new Map(memberRows.map((m) => [m.id, m]));
    const channelsByProgram = new Map(programRows.map((p) => [p.id, channelsOf(p.settings)]));
    const suppressed = new Map(suppressionRows.map((r) => [`${r.memberId}|${r.channel}`, r.reason]));
    const plan = planUnderPolicy(claimed, {
      now,
      programs: new Map(programRows.map((p) => [p.id, { policy: contactPolicyOf(p.settings), timeZone: p.timeZone }])),
      sendable: (m) => {
        const member = memberById.get(m.memberId);
        return (
          member?.status === "active" &&
          member.consent?.[m.channel] === true &&
          !suppressed.has(`${m.memberId}|${m.channel}`) &&
          channelsByProgram.get(m.programId)?.[m.channel] !== undefined
        );
      },
      recent: recentRows,
    });
    // A message that throws is one failed attempt of its own (backoff, then failed), never the round's.
    const outcomes = await mapLimit(claimed, SEND_CONCURRENCY, (m) => {
      const decided = plan.get(m.id);
      if (decided) return Promise.resolve(decided);
      const reason = suppressed.get(`${m.memberId}|${m.channel}`);
      if (reason)
        return Promise.resolve<Outcome>({
          id: m.id,
          status: "skipped_suppressed",
          attempts: m.attempts,
          nextAttemptAt: null,
          lastError: `channel ${m.channel} stopped for this member after a ${reason}`,
          deliveredAt: null,
        });
      return attempt(env, m, memberById.get(m.memberId), channelsByProgram.get(m.programId) ?? {}, now).catch((err: unknown) => {
        console.error(JSON.stringify({ level: "error", job: "messages.deliver", messageId: m.id, message: String(err) }));
        return failedAttempt(m, `Internal: ${String(err)}`.slice(0, 500), now);
      });
    });
    await db.batch(
      outcomes.map((o) =>
        db
          .update(messages)
          .set({
            status: o.status,
            attempts: o.attempts,
            nextAttemptAt: o.nextAttemptAt,
            lastError: o.lastError,
            deliveredAt: o.deliveredAt,
          })
          .where(and(eq(messages.id, o.id), eq(messages.status, "pending"))),
      ) as never,
    );
    for (const o of outcomes) {
      if (o.status === "delivered") totals.delivered++;
      else if (o.status === "pending" && plan.has(o.id)) totals.deferred++;
      else if (o.status === "pending") totals.retrying++;
      else if (o.status === "failed") totals.failed++;
      else totals.skipped++;
    }
    if (claimed.length < batchSize) break;
  }
  return totals;
}

/**
 * The contact policy's decisions for a claimed page: messages in their program's quiet hours
 * wait (pending, due when the hours end); of a member's sendable messages, those beyond the
 * day's or week's cap are skipped, lower priorities first. Messages not in the map go ahead.
 */
function planUnderPolicy(
  claimed: Claimed[],
  input: {
    now: Date;
    programs: Map<string, { policy: ContactPolicy; timeZone: string }>;
    sendable: (m: Claimed) => boolean;
    recent: Array<{ memberId: string; deliveredAt: string | null }>;
  },
): Map<string, Outcome> {
  const decided = new Map<string, Outcome>();
  const competing = new Map<string, Claimed[]>();
  for (const m of claimed) {
    const p = input.programs.get(m.programId);
    if (!p || !input.sendable(m)) continue;
    const wait = minutesUntilQuietEnds(p.policy, localMinuteOfDay(input.now, p.timeZone));
    if (wait > 0) {
      // To the start of the minute the quiet hours end in.
      const until = new Date(Math.floor(input.now.getTime() / 60_000) * 60_000 + wait * 60_000).toISOString();
      decided.set(m.id, {
        id: m.id,
        status: "pending",
        attempts: m.attempts,
        nextAttemptAt: until,
        lastError: `quiet hours: waits until ${until}`,
        deliveredAt: null,
      });
      continue;
    }
    if (p.policy.maxPerDay === null && p.policy.maxPerWeek === null) continue;
    competing.set(m.memberId, [...(competing.get(m.memberId) ?? []), m]);
  }
  for (const [memberId, candidates] of competing) {
    const p = input.programs.get(candidates[0].programId)!;
    const today = localDate(input.now, p.timeZone);
    const dayStart = new Date(startOfLocalDay(today, p.timeZone)).toISOString();
    const weekStart = new Date(startOfLocalDay(weekStartOf(today, localWeekday(input.now, p.timeZone)), p.timeZone)).toISOString();
    const mine = input.recent.filter((r) => r.memberId === memberId && r.deliveredAt);
    const sent = {
      today: mine.filter((r) => (r.deliveredAt as string) >= dayStart).length,
      thisWeek: mine.filter((r) => (r.deliveredAt as string) >= weekStart).length,
    };
    for (const m of admitUnderCaps(p.policy, sent, candidates).refused)
      decided.set(m.id, {
        id: m.id,
        status: "skipped_contact_policy",
        attempts: m.attempts,
        nextAttemptAt: null,
        lastError: `contact policy: at most ${p.policy.maxPerDay ?? "∞"} a day and ${p.policy.maxPerWeek ?? "∞"} a week per member`,
        deliveredAt: null,
      });
  }
  return decided;
}

async function attempt(
  env: Env,
  m: Claimed,
  member: { id: string; externalId: string; email: string | null; phone: string | null; status: string; consent: Consent } | undefined,
  channels: ReturnType<typeof channelsOf>,
  now: Date,
): Promise<Outcome> {
  const done = (status: Outcome["status"], lastError: string | null, attempts = m.attempts): Outcome => ({
    id: m.id,
    status,
    attempts,
    nextAttemptAt: null,
    lastError,
    deliveredAt: status === "delivered" ? now.toISOString() : null,
  });
  if (member?.status !== "active") return done("failed", `member is ${member?.status ?? "missing"}`);
  if (member.consent?.[m.channel] !== true) return done("skipped_no_consent", `member withdrew consent to ${m.channel}`);
  const endpoint = channels[m.channel];
  if (!endpoint) return done("skipped_no_endpoint", `no endpoint configured for channel ${m.channel} (PUT /v1/channels/${m.channel})`);
  const channelSecret = await openSecret(env, endpoint.secret, secretContext.channel(m.programId, m.channel));
  const body = JSON.stringify({
    id: m.id,
    type: "message",
    channel: m.channel,
    programId: m.programId,
    campaignId: m.campaignId,
    to: recipientFor(m.channel, member),
    body: m.body,
    createdAt: m.createdAt,
  });
  const sent = await postOutbound(env, endpoint.url, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    headers: {
      "content-type": "application/json",
      "user-agent": "LoyaltyEdge-Messages/1",
      "x-loyalty-message-id": m.id,
      // Both schemes, so an endpoint can verify either way (the channel secret is a whsec_ secret).
      ...(await signedHeaders("x-loyalty-signature", {
        secrets: [channelSecret],
        id: m.id,
        body,
        timestamp: Math.floor(now.getTime() / 1000),
      })),
      ...(await signedHeaders("standard-webhooks", {
        secrets: [channelSecret],
        id: m.id,
        body,
        timestamp: Math.floor(now.getTime() / 1000),
      })),
    },
    body,
  });
  if (sent.outcome === "refused") return done("failed", `Not sent: ${sent.error} (PUT /v1/channels/${m.channel} with a public https url)`);
  if (sent.outcome === "delivered") return done("delivered", null, m.attempts + 1);
  return failedAttempt(m, sent.error, now);
}

/** One more failed attempt: retried with backoff, or failed for good after MESSAGE_MAX_ATTEMPTS. */
function failedAttempt(m: Claimed, error: string, now: Date): Outcome {
  const attempts = m.attempts + 1;
  const delay = messageRetryDelayMs(attempts);
  if (delay === null)
    return {
      id: m.id,
      status: "failed",
      attempts,
      nextAttemptAt: null,
      lastError: `${error} after ${attempts} attempts`,
      deliveredAt: null,
    };
  return {
    id: m.id,
    status: "pending",
    attempts,
    nextAttemptAt: new Date(now.getTime() + delay).toISOString(),
    lastError: error,
    deliveredAt: null,
  };
}

/** A campaign's messages with their delivery status, newest first, cursor-paged by id. */
export async function listCampaignMessages({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; campaignId: string; status?: string; limit: number; cursor?: string };
}) {
  await requireCampaign(ctx.db, input.programId, input.campaignId);
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.programId, input.programId),
        eq(messages.campaignId, input.campaignId),
        input.status ? eq(messages.status, input.status as never) : undefined,
        input.cursor ? lt(messages.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(messages.id))
    .limit(input.limit + 1);
  const [summary] = await ctx.db.all<Record<string, number>>(sql`
    SELECT COUNT(*) AS total, SUM(status = 'pending') AS pending, SUM(status = 'delivered') AS delivered, SUM(status = 'failed') AS failed,
      SUM(status = 'skipped_no_consent') AS skippedNoConsent, SUM(status = 'skipped_no_endpoint') AS skippedNoEndpoint,
      SUM(status = 'skipped_suppressed') AS skippedSuppressed, SUM(status = 'skipped_contact_policy') AS skippedContactPolicy
    FROM messages WHERE campaign_id = ${input.campaignId} AND program_id = ${input.programId}`);
  return {
    summary: Object.fromEntries(Object.entries(summary ?? {}).map(([k, v]) => [k, Number(v ?? 0)])),
    ...cursorPage(
      rows,
      input.limit,
      (m) => m.id,
      (m) => ({
        id: m.id,
        memberId: m.memberId,
        channel: m.channel,
        body: m.body,
        status: m.status,
        attempts: m.attempts,
        nextAttemptAt: m.status === "pending" ? m.nextAttemptAt : null,
        lastError: m.lastError,
        createdAt: m.createdAt,
        deliveredAt: m.deliveredAt,
        journeyRunId: m.journeyRunId,
        stepId: m.stepId,
      }),
    ),
  };
}
