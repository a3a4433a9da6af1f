import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { outboxCursors, webhookDeliveries, webhooks } from "../../../schema";
import { type Database, database } from "../../db/client";
import { sqlId } from "../../db/sql-id";
import type { Env } from "../../env";
import { mapLimit } from "../../lib/concurrency";
import { postOutbound } from "../../lib/outbound-fetch";
import { openSecret, secretContext } from "../../lib/secret-box";
import { signedHeaders } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { suspendedPrograms } from "../tenants/status";

/**
 * Outbound webhooks: outbox → deliveries → signed HTTP POSTs, at least once.
 *
 * 1. `dispatchOutbox` (every minute) reads outbox events past this consumer's own cursor
 *    (`outbox_cursors`, consumer "webhooks"; `outbox_events.dispatched_at` is left to the
 *    campaign triggers) and inserts one delivery per (matching active webhook, event) in one
 *    set-based INSERT … SELECT; the unique (webhook, event) index makes re-running harmless.
 *    The cursor is the table's rowid, not the event id: SQLite hands out rowids in commit
 *    order (one writer at a time), so an event committed late can never land behind the
 *    cursor, and ids minted by SQL sweeps (random, not time-ordered) do not matter.
 * 2. `sweepDueDeliveries` (same cron) claims due deliveries with a lease and either enqueues
 *    them on WEBHOOK_QUEUE (consumer: `consumeWebhookBatch`) or, without a queue binding,
 *    sends a bounded number directly.
 * 3. `attemptDelivery` sends one through `postOutbound` (src/lib/outbound-fetch.ts: the URL
 *    policy re-checked, a forbidden URL never fetched, no redirect followed), signed with the
 *    subscription's scheme (src/lib/signing.ts), records the outcome and schedules the retry
 *    (exponential backoff with ±20% jitter over ~3 days); N consecutive failures, or one 410 Gone,
 *    disable the webhook.
 */
export const RETRY_SCHEDULE_MINUTES = [1, 5, 30, 120, 360, 720, 1440, 1440] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MINUTES.length + 1;
export const DISABLE_AFTER_CONSECUTIVE_FAILURES = 20;
const WEBHOOK_CURSOR = "webhooks";

const CLAIM_LEASE_MS = 5 * 60_000;
const DELIVERY_TIMEOUT_MS = 10_000;
const DIRECT_SEND_LIMIT = 100;
const SEND_CONCURRENCY = 10;
const DISPATCH_ROUNDS = 20;

export type WebhookMessage = { deliveryId: string };

/** Delay before the next attempt after `failedAttempts` failures, or null when it is time to give up. */
export function retryDelayMs(failedAttempts: number, random = Math.random()): number | null {
  if (failedAttempts < 1 || failedAttempts >= MAX_ATTEMPTS) return null;
  const base = RETRY_SCHEDULE_MINUTES[failedAttempts - 1] * 60_000;
  return Math.round(base * (0.8 + 0.4 * random));
}

/** Fan new outbox events out into deliveries for matching active subscriptions. */
export async function dispatchOutbox(env: Env, now: Date, batchSize: number) {
  const db = database(env);
  const stamp = nowIso(now);
  await db.insert(outboxCursors).values({ consumer: WEBHOOK_CURSOR, position: "0", updatedAt: stamp }).onConflictDoNothing();
  let events = 0;
  let deliveries = 0;
  for (let round = 0; round < DISPATCH_ROUNDS; round++) {
    const [cursor] = await db
      .select({ position: outboxCursors.position })
      .from(outboxCursors)
      .where(eq(outboxCursors.consumer, WEBHOOK_CURSOR));
    const position = cursor?.position ?? "0";
    const from = Number(position);
    const page = await db.all<{ rid: number }>(
      sql`SELECT rowid AS rid FROM outbox_events WHERE rowid > ${from} ORDER BY rowid LIMIT ${batchSize}`,
    );
    if (page.length === 0) break;
    const last = Number(page[page.length - 1].rid);
    const [inserted] = await db.batch([
      db.run(sql`
        INSERT INTO webhook_deliveries (id, program_id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
        SELECT ${sqlId("dlv")}, e.program_id, w.id, e.id, e.type,
               json_object('id', e.id, 'type', e.type, 'apiVersion', w.api_version, 'programId', e.program_id, 'createdAt', e.created_at, 'data', json(e.payload)),
               'pending', 0, ${stamp}, ${stamp}
        FROM outbox_events e
        JOIN webhooks w ON w.program_id = e.program_id AND w.status = 'active' AND w.created_at <= e.created_at
        WHERE e.rowid > ${from} AND e.rowid <= ${last}
          AND EXISTS (
            SELECT 1 FROM json_each(w.event_types) t
            WHERE t.value = '*' OR t.value = e.type
               OR (substr(t.value, -2) = '.*' AND substr(e.type, 1, length(t.value) - 1) = substr(t.value, 1, length(t.value) - 1))
          )
        ON CONFLICT DO NOTHING`),
      // Compare-and-set: a concurrent run that got here first wins; our inserts were no-ops.
      db
        .update(outboxCursors)
        .set({ position: String(last), updatedAt: stamp })
        .where(and(eq(outboxCursors.consumer, WEBHOOK_CURSOR), eq(outboxCursors.position, position))),
    ]);
    events += page.length;
    deliveries += Number((inserted as { rowsAffected?: number }).rowsAffected ?? 0);
    if (page.length < batchSize) break;
  }
  return { events, deliveries };
}

/** Claim due deliveries (lease) and hand them to the queue, or send some directly without one. */
export async function sweepDueDeliveries(env: Env, now: Date, batchSize: number) {
  const db = database(env);
  const queue = env.WEBHOOK_QUEUE;
  const limit = queue ? batchSize : Math.min(batchSize, DIRECT_SEND_LIMIT);
  const stamp = nowIso(now);
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, "pending"),
        sql`${webhookDeliveries.nextAttemptAt} <= ${stamp}`,
        sql`${webhookDeliveries.programId} NOT IN (${suspendedPrograms})`,
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit);
  // The lease keeps the next sweep off these while the queue or this run works on them;
  // if a worker dies mid-attempt the delivery simply becomes due again.
  const claimed = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: new Date(now.getTime() + CLAIM_LEASE_MS).toISOString() })
    .where(and(inArray(webhookDeliveries.id, due), eq(webhookDeliveries.status, "pending")))
    .returning({ id: webhookDeliveries.id });
  if (claimed.length === 0) return { claimed: 0 };
  if (queue) {
    for (let i = 0; i < claimed.length; i += 100) {
      await queue.sendBatch(
        claimed.slice(i, i + 100).map((c) => ({ body: { deliveryId: c.id } satisfies WebhookMessage, contentType: "json" as const })),
      );
    }
    return { claimed: claimed.length, enqueued: claimed.length };
  }
  // A delivery that throws (its outcome could not be recorded) keeps its lease as the retry delay; the others go on.
  const outcomes = await mapLimit(claimed, SEND_CONCURRENCY, (c) =>
    attemptDelivery(env, c.id, now).catch((err: unknown): AttemptOutcome => {
      console.error(JSON.stringify({ level: "error", job: "webhooks.deliver", deliveryId: c.id, message: String(err) }));
      return { outcome: "retry", error: String(err) };
    }),
  );
  return {
    claimed: claimed.length,
    delivered: outcomes.filter((o) => o.outcome === "delivered").length,
    failed: outcomes.filter((o) => o.outcome === "retry" || o.outcome === "failed").length,
  };
}

/** Queue consumer: one attempt per message; the database, not the queue, schedules retries. */
export async function consumeWebhookBatch(batch: MessageBatch<WebhookMessage>, env: Env) {
  await mapLimit(batch.messages, SEND_CONCURRENCY, async (message) => {
    try {
      await attemptDelivery(env, message.body.deliveryId, new Date());
      message.ack();
    } catch (err) {
      // Recording failed (database unreachable): let the queue retry; the lease covers us otherwise.
      console.error(
        JSON.stringify({ level: "error", job: "webhooks.consume", deliveryId: message.body?.deliveryId, message: String(err) }),
      );
      message.retry({ delaySeconds: 30 });
    }
  });
}

export type AttemptOutcome = { outcome: "delivered" | "retry" | "failed" | "skipped"; statusCode?: number | null; error?: string | null };

/** The secrets a webhook signs with now: the current one, plus the previous during a rotation overlap. */
function signingSecrets(w: { secret: string; previousSecret: string | null; previousSecretUntil: string | null }, now: Date): string[] {
  return w.previousSecret && w.previousSecretUntil && w.previousSecretUntil > nowIso(now) ? [w.secret, w.previousSecret] : [w.secret];
}

/** `signingSecrets`, opened: they are stored sealed (src/lib/secret-box.ts). */
const openSigningSecrets = (env: Env, webhookId: string, w: Parameters<typeof signingSecrets>[0], now: Date) =>
  Promise.all(signingSecrets(w, now).map((s) => openSecret(env, s, secretContext.webhook(webhookId))));

/** Send one delivery and record the result (and the webhook's failure streak) in one batch. */
export async function attemptDelivery(env: Env, deliveryId: string, now: Date): Promise<AttemptOutcome> {
  const db = database(env);
  const [row] = await db
    .select({
      delivery: webhookDeliveries,
      url: webhooks.url,
      secret: webhooks.secret,
      scheme: webhooks.scheme,
      previousSecret: webhooks.previousSecret,
      previousSecretUntil: webhooks.previousSecretUntil,
      webhookStatus: webhooks.status,
    })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, deliveryId))
    .limit(1);
  if (row?.delivery.status !== "pending") return { outcome: "skipped" };
  const d = row.delivery;
  if (row.webhookStatus !== "active") {
    await parkDeliveries(db, d.webhookId);
    return { outcome: "skipped" };
  }

  const attempt = d.attempts + 1;
  const body = JSON.stringify(d.payload);
  const sent = await postOutbound(env, row.url, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    headers: {
      "content-type": "application/json",
      "user-agent": "LoyaltyEdge-Webhooks/1",
      // webhook-id is the event id, the same on every attempt, so receivers de-duplicate on it.
      // The signature timestamp is wall-clock time: receivers check it against their own clock.
      ...(await signedHeaders(row.scheme, { secrets: await openSigningSecrets(env, d.webhookId, row, now), id: d.eventId, body })),
      "x-loyalty-event-id": d.eventId,
      "x-loyalty-event-type": d.eventType,
      "x-loyalty-delivery-id": d.id,
      "x-loyalty-delivery-attempt": String(attempt),
    },
    body,
  });
  // Defence in depth: a row written before the URL policy existed, or by a script, is never fetched.
  if (sent.outcome === "refused") return refuseForbiddenUrl(db, d, attempt, sent.error, now);
  const statusCode = sent.status;
  const error = sent.outcome === "delivered" ? null : `${sent.error}${sent.body ? `: ${sent.body.slice(0, 300)}` : ""}`;

  const stamp = nowIso(now);
  if (!error) {
    await db.batch([
      db
        .update(webhookDeliveries)
        .set({
          status: "delivered",
          attempts: attempt,
          deliveredAt: stamp,
          lastStatusCode: statusCode,
          lastError: null,
          nextAttemptAt: null,
        })
        .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"))),
      db.update(webhooks).set({ consecutiveFailures: 0 }).where(eq(webhooks.id, d.webhookId)),
    ]);
    return { outcome: "delivered", statusCode };
  }

  if (statusCode === 410) return disableGone(db, d, attempt, error, now);
  const delay = retryDelayMs(attempt);
  const N = DISABLE_AFTER_CONSECUTIVE_FAILURES;
  await db.batch([
    db
      .update(webhookDeliveries)
      .set({
        status: delay === null ? "failed" : "pending",
        attempts: attempt,
        lastStatusCode: statusCode,
        lastError: error,
        nextAttemptAt: delay === null ? null : new Date(now.getTime() + delay).toISOString(),
      })
      .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"))),
    // SQLite evaluates every SET expression against the old row.
    db
      .update(webhooks)
      .set({
        consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
        status: sql`CASE WHEN ${webhooks.consecutiveFailures} + 1 >= ${N} THEN 'disabled' ELSE ${webhooks.status} END`,
        disabledReason: sql`CASE WHEN ${webhooks.status} = 'active' AND ${webhooks.consecutiveFailures} + 1 >= ${N} THEN ${`Disabled automatically after ${N} consecutive failed deliveries; last: ${error.slice(0, 200)}`} ELSE ${webhooks.disabledReason} END`,
        updatedAt: stamp,
      })
      .where(eq(webhooks.id, d.webhookId)),
    parkDeliveriesIfDisabled(db, d.webhookId),
  ]);
  return { outcome: delay === null ? "failed" : "retry", statusCode, error };
}

/**
 * A delivery whose webhook URL is forbidden fails for good without a request, and the webhook
 * is disabled with the reason, so its other deliveries wait (parked) for a corrected url
 * instead of each failing in turn: PATCH {url, status: "active"} resumes them.
 */
async function refuseForbiddenUrl(
  db: Database,
  d: typeof webhookDeliveries.$inferSelect,
  attempt: number,
  problem: string,
  now: Date,
): Promise<AttemptOutcome> {
  const error = `Not sent: ${problem}`;
  const stamp = nowIso(now);
  await db.batch([
    db
      .update(webhookDeliveries)
      .set({ status: "failed", attempts: attempt, lastStatusCode: null, lastError: error, nextAttemptAt: null })
      .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"))),
    db
      .update(webhooks)
      .set({
        status: "disabled",
        disabledReason: `Disabled automatically: ${problem}. Change the url and re-enable (PATCH url, status active).`,
        consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
        updatedAt: stamp,
      })
      .where(eq(webhooks.id, d.webhookId)),
    parkDeliveries(db, d.webhookId),
  ]);
  return { outcome: "failed", statusCode: null, error };
}

/**
 * 410 Gone is the receiver saying the endpoint is retired (as Standard Webhooks senders treat it):
 * the delivery fails for good and the webhook is disabled, its other deliveries parked, until an
 * admin re-enables it.
 */
async function disableGone(
  db: Database,
  d: typeof webhookDeliveries.$inferSelect,
  attempt: number,
  error: string,
  now: Date,
): Promise<AttemptOutcome> {
  const stamp = nowIso(now);
  await db.batch([
    db
      .update(webhookDeliveries)
      .set({ status: "failed", attempts: attempt, lastStatusCode: 410, lastError: error, nextAttemptAt: null })
      .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"))),
    db
      .update(webhooks)
      .set({
        status: "disabled",
        disabledReason: "Disabled automatically: the endpoint answered 410 Gone. Re-enable it (PATCH status active) if it is back.",
        consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
        updatedAt: stamp,
      })
      .where(eq(webhooks.id, d.webhookId)),
    parkDeliveries(db, d.webhookId),
  ]);
  return { outcome: "failed", statusCode: 410, error };
}

/** A disabled webhook's pending deliveries wait (no due time) until it is re-enabled. */
export function parkDeliveries(db: Database, webhookId: string) {
  return db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: null })
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, "pending")));
}

function parkDeliveriesIfDisabled(db: Database, webhookId: string) {
  return db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: null })
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        eq(webhookDeliveries.status, "pending"),
        sql`(SELECT status FROM webhooks WHERE id = ${webhookId}) = 'disabled'`,
      ),
    );
}
