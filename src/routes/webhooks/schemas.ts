import { z } from "@hono/zod-openapi";
import { API_VERSIONS, type ApiVersion } from "../../lib/api-version";
import { WEBHOOK_SCHEMES } from "../../lib/signing";
import { EVENT_TYPE_PATTERN, KNOWN_EVENT_TYPES } from "../../services/webhooks/subscriptions";

// The syntax only; the delivery policy (https, public hosts only) needs the environment for its
// test-only exception, so the service checks it (assertTargetUrl in src/lib/outbound-fetch.ts) — a 400 just the same.
const WebhookUrl = z
  .url({ protocol: /^https?$/, error: "url must be an https URL" })
  .max(2048)
  .openapi({
    description:
      "A public https endpoint. Rejected (400): IP literals in loopback, private, link-local, CGNAT, multicast or reserved ranges (in any notation, IPv4-mapped IPv6 included); localhost, single-label hosts and internal suffixes (.local, .internal, .localdomain, .test, …); user:password@ credentials.",
    example: "https://partner.example.com/loyalty/webhooks",
  });

const EventTypes = z
  .array(z.string().regex(EVENT_TYPE_PATTERN, 'event types look like "points.earned", "points.*" or "*"'))
  .min(1)
  .max(50)
  .openapi({
    description: `Exact types, families ("points.*") or "*". Emitted today: ${KNOWN_EVENT_TYPES.join(", ")}.`,
    example: ["points.earned", "tier.changed"],
  });

const Scheme = z.enum(WEBHOOK_SCHEMES).openapi({
  description:
    "How deliveries are signed. standard-webhooks (the default): webhook-id, webhook-timestamp and webhook-signature headers, verifiable with any Standard Webhooks library. x-loyalty-signature: the former X-Loyalty-Signature header, kept for subscriptions created before the standard (deprecated).",
  example: "standard-webhooks",
});

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    scheme: Scheme,
    apiVersion: z.enum(API_VERSIONS as [ApiVersion, ...ApiVersion[]]).openapi({
      description: "The API version its payloads are rendered in (`apiVersion` in each): the creating request's",
    }),
    status: z.enum(["active", "disabled"]),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    previousSecretValidUntil: z
      .string()
      .nullable()
      .openapi({ description: "Until then deliveries are also signed with the previous secret (after a rotation)" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    description: "The signing secret (whsec_ + base64), shown once: give it to your Standard Webhooks library to verify deliveries.",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
}).openapi("WebhookWithSecret");

export const DeliverySchema = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().openapi({
      description: "When the next attempt is due; null when delivered, failed for good, or parked while the webhook is disabled",
    }),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    payload: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The exact JSON body sent: {id, type, apiVersion, programId, createdAt, data}" }),
  })
  .openapi("WebhookDelivery");

export const CreateWebhookBody = z
  .object({ url: WebhookUrl, eventTypes: EventTypes, scheme: Scheme.optional() })
  .strict()
  .openapi("CreateWebhook", {
    example: { url: "https://partner.example.com/loyalty/webhooks", eventTypes: ["points.earned", "tier.changed", "reward.issued"] },
  });

export const UpdateWebhookBody = z
  .object({
    url: WebhookUrl.optional(),
    eventTypes: EventTypes.optional(),
    scheme: Scheme.optional(),
    status: z.enum(["active", "disabled"]).optional(),
    apiVersion: z
      .enum(API_VERSIONS as [ApiVersion, ...ApiVersion[]])
      .optional()
      .openapi({ description: "Move the subscription to another API version: events fanned out from now on carry that shape" }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "send at least one of url, eventTypes, scheme, status, apiVersion")
  .openapi("UpdateWebhook", { example: { status: "active" } });

export const WebhookIdParam = z.object({
  webhookId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "webhookId", in: "path" }, example: "whk_01jd..." }),
});
export const DeliveryParams = WebhookIdParam.extend({
  deliveryId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "deliveryId", in: "path" }, example: "dlv_01jd..." }),
});
