import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { webhookDeliveries, webhooks } from "../../../schema";
import { type ApiVersion, LATEST_API_VERSION } from "../../lib/api-version";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { assertTargetUrl } from "../../lib/outbound-fetch";
import { cursorPage } from "../../lib/pagination";
import { sealSecret, secretContext } from "../../lib/secret-box";
import { newSigningSecret, type WebhookScheme } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { attemptDelivery, parkDeliveries } from "./delivery";

/** After a rotation the previous secret keeps signing (a second v1) for this long. */
const SECRET_OVERLAP_MS = 24 * 3600_000;
const MAX_WEBHOOKS_PER_PROGRAM = 50;

/** Event types a subscription can name: exact ("points.earned"), a family ("points.*") or everything ("*"). */
export const EVENT_TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;
/** The outbox event types the engine emits today (features may add more; any well-formed type is accepted). */
export const KNOWN_EVENT_TYPES = [
  "member.created",
  "member.erased",
  "member.merged",
  "points.earned",
  "points.redeemed",
  "points.adjusted",
  "points.reversed",
  "points.released",
  "points.expired",
  "points.returned",
  "order.accrued",
  "tier.changed",
  "reward.issued",
  "stage.changed",
  "activity.recorded",
  "coupon.consumed",
  "coupon.cancelled",
  "redemption.reserved",
  "redemption.captured",
  "redemption.voided",
  "redemption.expired",
  "redemption.reversed",
  "referral.qualified",
  "referral.rewarded",
  "referral.reversed",
] as const;

type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** A subscription as the API shows it: never its secrets. */
function webhookView(w: WebhookRow, now = new Date()) {
  return {
    id: w.id,
    url: w.url,
    eventTypes: w.eventTypes,
    scheme: w.scheme,
    apiVersion: w.apiVersion as ApiVersion,
    status: w.status,
    disabledReason: w.disabledReason,
    consecutiveFailures: w.consecutiveFailures,
    previousSecretValidUntil:
      w.previousSecret && w.previousSecretUntil && w.previousSecretUntil > nowIso(now) ? w.previousSecretUntil : null,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}

function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
    payload: d.payload,
  };
}

/** 400 unless deliveries may go to `url` (public https host; see src/lib/outbound-fetch.ts), before anything is written. */
const assertDeliverableUrl = (ctx: ServiceContext, url: string) => assertTargetUrl(ctx.env, url);

async function requireWebhook(ctx: ServiceContext, programId: string, webhookId: string) {
  const [row] = await ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.programId, programId), eq(webhooks.id, webhookId)))
    .limit(1);
  if (!row) throw notFound("Webhook");
  return row;
}

export async function createWebhook({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; url: string; eventTypes: string[]; scheme?: WebhookScheme; apiVersion?: ApiVersion };
}) {
  assertDeliverableUrl(ctx, input.url);
  const [{ n }] = await ctx.db.select({ n: sql<number>`count(*)` }).from(webhooks).where(eq(webhooks.programId, input.programId));
  if (Number(n) >= MAX_WEBHOOKS_PER_PROGRAM)
    throw new AppError("limit_reached", `A program can have at most ${MAX_WEBHOOKS_PER_PROGRAM} webhooks`);
  const now = nowIso();
  const id = newId("whk");
  const secret = newSigningSecret();
  const row: WebhookRow = {
    id,
    programId: input.programId,
    url: input.url,
    eventTypes: [...new Set(input.eventTypes)],
    secret: await sealSecret(ctx.env, secret, secretContext.webhook(id)),
    scheme: input.scheme ?? "standard-webhooks",
    apiVersion: input.apiVersion ?? LATEST_API_VERSION,
    previousSecret: null,
    previousSecretUntil: null,
    status: "active",
    disabledReason: null,
    consecutiveFailures: 0,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db.insert(webhooks).values(row),
    auditStatement(ctx, { action: "webhook.created", entityType: "webhook", entityId: row.id, after: webhookView(row) }),
  ]);
  return { ...webhookView(row), secret };
}

export async function listWebhooks({ ctx, input }: { ctx: ServiceContext; input: { programId: string; limit: number; cursor?: string } }) {
  const rows = await ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.programId, input.programId), input.cursor ? lt(webhooks.id, input.cursor) : undefined))
    .orderBy(desc(webhooks.id))
    .limit(input.limit + 1);
  return cursorPage(
    rows,
    input.limit,
    (r) => r.id,
    (w) => webhookView(w),
  );
}

export async function getWebhook({ ctx, input }: { ctx: ServiceContext; input: { programId: string; webhookId: string } }) {
  return webhookView(await requireWebhook(ctx, input.programId, input.webhookId));
}

export type WebhookPatch = {
  url?: string;
  eventTypes?: string[];
  status?: "active" | "disabled";
  scheme?: WebhookScheme;
  apiVersion?: ApiVersion;
};

/**
 * Change url, event types, signature scheme or status. The secret stays when the scheme changes:
 * every `whsec_` secret is also a valid Standard Webhooks secret. Disabling parks the pending deliveries; re-enabling
 * resets the failure streak and makes the parked deliveries due at once. A forbidden url
 * (new, or the stored one when re-enabling) is a 400 and nothing changes.
 */
export async function updateWebhook({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; webhookId: string; patch: WebhookPatch };
}) {
  const before = await requireWebhook(ctx, input.programId, input.webhookId);
  const now = nowIso();
  const { patch } = input;
  const after: WebhookRow = {
    ...before,
    url: patch.url ?? before.url,
    eventTypes: patch.eventTypes ? [...new Set(patch.eventTypes)] : before.eventTypes,
    scheme: patch.scheme ?? before.scheme,
    apiVersion: patch.apiVersion ?? before.apiVersion,
    status: patch.status ?? before.status,
    updatedAt: now,
  };
  const enabling = patch.status === "active" && before.status !== "active";
  const disabling = patch.status === "disabled" && before.status !== "disabled";
  // A new url must pass the policy; so must the stored one when re-enabling (a row from before the
  // policy, or one disabled for its url). Disabling or retyping such a row stays possible.
  if (patch.url !== undefined || enabling) assertDeliverableUrl(ctx, after.url);
  if (enabling) Object.assign(after, { consecutiveFailures: 0, disabledReason: null });
  if (disabling) after.disabledReason = "Disabled by an admin";
  await ctx.db.batch([
    ctx.db
      .update(webhooks)
      .set({
        url: after.url,
        eventTypes: after.eventTypes,
        scheme: after.scheme,
        apiVersion: after.apiVersion,
        status: after.status,
        disabledReason: after.disabledReason,
        consecutiveFailures: after.consecutiveFailures,
        updatedAt: now,
      })
      .where(eq(webhooks.id, before.id)),
    ...(disabling ? [parkDeliveries(ctx.db, before.id)] : []),
    ...(enabling
      ? [
          ctx.db
            .update(webhookDeliveries)
            .set({ nextAttemptAt: now })
            .where(
              and(
                eq(webhookDeliveries.webhookId, before.id),
                eq(webhookDeliveries.status, "pending"),
                isNull(webhookDeliveries.nextAttemptAt),
              ),
            ),
        ]
      : []),
    auditStatement(ctx, {
      action: "webhook.updated",
      entityType: "webhook",
      entityId: before.id,
      before: webhookView(before),
      after: webhookView(after),
    }),
  ]);
  return webhookView(after);
}

/** Delete the subscription and its delivery log. */
export async function deleteWebhook({ ctx, input }: { ctx: ServiceContext; input: { programId: string; webhookId: string } }) {
  const before = await requireWebhook(ctx, input.programId, input.webhookId);
  await ctx.db.batch([
    ctx.db.delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, before.id)),
    ctx.db.delete(webhooks).where(eq(webhooks.id, before.id)),
    auditStatement(ctx, { action: "webhook.deleted", entityType: "webhook", entityId: before.id, before: webhookView(before) }),
  ]);
}

/**
 * A new signing secret (returned once). For SECRET_OVERLAP_MS the previous one still signs
 * too — deliveries carry both signatures (`v1,<new> v1,<old>` in webhook-signature) — so the partner can switch without a gap.
 * Rotating again within the window drops the oldest secret.
 */
export async function rotateWebhookSecret({ ctx, input }: { ctx: ServiceContext; input: { programId: string; webhookId: string } }) {
  const before = await requireWebhook(ctx, input.programId, input.webhookId);
  const now = new Date();
  const secret = newSigningSecret();
  const after: WebhookRow = {
    ...before,
    secret: await sealSecret(ctx.env, secret, secretContext.webhook(before.id)),
    // Stored sealed for this webhook, so it moves across as it is.
    previousSecret: before.secret,
    previousSecretUntil: new Date(now.getTime() + SECRET_OVERLAP_MS).toISOString(),
    updatedAt: nowIso(now),
  };
  await ctx.db.batch([
    ctx.db
      .update(webhooks)
      .set({
        secret: after.secret,
        previousSecret: after.previousSecret,
        previousSecretUntil: after.previousSecretUntil,
        updatedAt: after.updatedAt,
      })
      .where(eq(webhooks.id, before.id)),
    auditStatement(ctx, {
      action: "webhook.secret_rotated",
      entityType: "webhook",
      entityId: before.id,
      before: { previousSecretValidUntil: webhookView(before).previousSecretValidUntil },
      after: { previousSecretValidUntil: after.previousSecretUntil },
    }),
  ]);
  return { ...webhookView(after, now), secret };
}

export async function listDeliveries({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; webhookId: string; limit: number; cursor?: string; status?: DeliveryRow["status"] };
}) {
  await requireWebhook(ctx, input.programId, input.webhookId);
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.programId, input.programId),
        eq(webhookDeliveries.webhookId, input.webhookId),
        input.status ? eq(webhookDeliveries.status, input.status) : undefined,
        input.cursor ? lt(webhookDeliveries.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, deliveryView);
}

/**
 * Send a delivery again now (whatever its status), restarting its retry schedule if this
 * attempt fails. Refused while the webhook is disabled: re-enable it first.
 */
export async function redeliver({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; webhookId: string; deliveryId: string };
}) {
  const webhook = await requireWebhook(ctx, input.programId, input.webhookId);
  const [delivery] = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.programId, input.programId),
        eq(webhookDeliveries.webhookId, webhook.id),
        eq(webhookDeliveries.id, input.deliveryId),
      ),
    )
    .limit(1);
  if (!delivery) throw notFound("Delivery");
  if (webhook.status !== "active")
    throw new AppError("conflict", "The webhook is disabled; re-enable it (PATCH status active) before redelivering");
  const now = new Date();
  await ctx.db.batch([
    // Held by a short lease so the minute sweep does not send it a second time meanwhile.
    ctx.db
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: new Date(now.getTime() + 5 * 60_000).toISOString(), deliveredAt: null })
      .where(eq(webhookDeliveries.id, delivery.id)),
    auditStatement(ctx, {
      action: "webhook.delivery.redelivered",
      entityType: "webhook_delivery",
      entityId: delivery.id,
      before: { status: delivery.status, attempts: delivery.attempts },
    }),
  ]);
  await attemptDelivery(ctx.env, delivery.id, now);
  const [after] = await ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery.id)).limit(1);
  return deliveryView(after);
}
