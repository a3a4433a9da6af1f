import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { messages } from "../../../schema";
import type { Channel } from "../../domain/campaigns/definition";
import type { ServiceContext } from "../../lib/context";
import { newId } from "../../lib/ids";
import { openSecret, secretContext } from "../../lib/secret-box";
import { nowIso } from "../../lib/time";
import { memberLedger } from "../ledger/write";
import { channelsOf, loadProgramSettings } from "./channels";

export const PROVIDER_EVENT_TYPES = ["delivered", "opened", "clicked", "bounced", "complained", "unsubscribed"] as const;
export const MAX_PROVIDER_EVENTS = 100;

const providerEventSchema = z.strictObject({
  /** The provider's own id for this event: a resend is recorded once. */
  id: z.string().min(1).max(200),
  /** The message id the provider received (`id` of the delivered payload, also its webhook-id). */
  messageId: z.string().min(1).max(64),
  type: z.enum(PROVIDER_EVENT_TYPES),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});
export const providerEventBatchSchema = z.strictObject({ events: z.array(providerEventSchema).min(1).max(MAX_PROVIDER_EVENTS) });
export type ProviderEvent = z.infer<typeof providerEventSchema>;

/**
 * The secret the channel's provider signs events with: the channel endpoint's own. A channel
 * without an endpoint has none, so nothing verifies (401, as any unverifiable request).
 */
export async function channelSigningSecrets(ctx: ServiceContext, programId: string, channel: Channel): Promise<string[]> {
  const endpoint = channelsOf(await loadProgramSettings(ctx, programId))[channel];
  return endpoint ? [await openSecret(ctx.env, endpoint.secret, secretContext.channel(programId, channel))] : [];
}

type Result = { id: string; messageId: string; type: string; status: "recorded" | "duplicate" | "unknown_message" };

/**
 * Record provider events against this program's messages on this channel, each once (by the
 * provider's event id). Effects at once, in the same batch as the event: an unsubscribe
 * withdraws the member's consent to the channel; a bounce or a complaint stops the channel
 * for the member (channel_suppressions). Both are skipped at the next delivery attempt.
 */
export async function recordProviderEvents({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; channel: Channel; events: ProviderEvent[] };
}): Promise<{ results: Result[] }> {
  const ids = [...new Set(input.events.map((e) => e.messageId))];
  const found = await ctx.db
    .select({ id: messages.id, memberId: messages.memberId, campaignId: messages.campaignId })
    .from(messages)
    .where(and(eq(messages.programId, input.programId), eq(messages.channel, input.channel), inArray(messages.id, ids)));
  const byId = new Map(found.map((m) => [m.id, m]));
  const now = nowIso();
  const statements = [];
  const planned: Array<{ result: Result; rowId: string }> = [];
  const results: Result[] = [];
  const unsubscribed = new Set<string>();
  for (const e of input.events) {
    const m = byId.get(e.messageId);
    if (!m) {
      results.push({ id: e.id, messageId: e.messageId, type: e.type, status: "unknown_message" });
      continue;
    }
    const rowId = newId("mev");
    const occurredAt = e.occurredAt ? new Date(e.occurredAt).toISOString() : now;
    const result: Result = { id: e.id, messageId: e.messageId, type: e.type, status: "recorded" };
    results.push(result);
    planned.push({ result, rowId });
    statements.push(
      ctx.db.run(sql`INSERT INTO message_events (id, program_id, message_id, campaign_id, member_id, channel, type, provider_event_id, occurred_at, created_at)
        VALUES (${rowId}, ${input.programId}, ${m.id}, ${m.campaignId}, ${m.memberId}, ${input.channel}, ${e.type}, ${e.id}, ${occurredAt}, ${now})
        ON CONFLICT DO NOTHING`),
    );
    const ours = sql`EXISTS (SELECT 1 FROM message_events WHERE id = ${rowId})`;
    if (e.type === "unsubscribed") {
      unsubscribed.add(m.memberId);
      statements.push(
        ctx.db.run(sql`UPDATE members SET consent = json_set(consent, ${`$.${input.channel}`}, json('false')), updated_at = ${now}
          WHERE id = ${m.memberId} AND program_id = ${input.programId} AND status <> 'erased' AND ${ours}`),
      );
    }
    if (e.type === "bounced" || e.type === "complained")
      statements.push(
        ctx.db.run(sql`INSERT INTO channel_suppressions (program_id, member_id, channel, reason, message_id, created_at)
          SELECT ${input.programId}, ${m.memberId}, ${input.channel}, ${e.type === "bounced" ? "bounce" : "complaint"}, ${m.id}, ${now}
          WHERE ${ours} ON CONFLICT DO NOTHING`),
      );
  }
  if (statements.length) await ctx.db.batch(statements as never);
  if (planned.length) {
    const stored = new Set(
      (
        await ctx.db.all<{ id: string }>(
          sql`SELECT id FROM message_events WHERE id IN (${sql.join(
            planned.map((p) => sql`${p.rowId}`),
            sql`, `,
          )})`,
        )
      ).map((r) => r.id),
    );
    for (const p of planned) if (!stored.has(p.rowId)) p.result.status = "duplicate";
  }
  // The member's cached lookup view carries consent.
  if (ctx.env.MEMBER_LEDGER) await Promise.all([...unsubscribed].map((id) => memberLedger(ctx.env, input.programId, id).forget()));
  return { results };
}
