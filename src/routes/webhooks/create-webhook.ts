import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { requestApiVersion } from "../../middleware/api-version";
import { createWebhook } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { CreateWebhookBody, WebhookWithSecretSchema } from "./schemas";

export const createWebhookRoute = defineRoute(
  {
    operationId: "webhooks.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/webhooks",
    tags: ["Webhooks"],
    summary: "Subscribe a partner endpoint to event types (the signing secret is shown once)",
    description:
      "Events that happen from now on and match eventTypes are POSTed to url, signed the Standard Webhooks way (webhook-id = the event id, the same on every retry; webhook-timestamp; webhook-signature), retried with exponential backoff for ~3 days. A 410 Gone disables the webhook. 409 limit_reached past 50 webhooks. Audited.",
    request: { body: jsonBody(CreateWebhookBody) },
    responses: { 201: jsonResponse(WebhookWithSecretSchema, "The subscription, with its secret"), ...errorResponses(409) },
  },
  async (c, { programId }) => {
    return c.json(
      await createWebhook({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId, apiVersion: requestApiVersion(c) } }),
      201,
    );
  },
);
