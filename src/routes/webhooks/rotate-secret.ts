import { errorResponses, jsonResponse } from "../../lib/openapi";
import { rotateWebhookSecret } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { WebhookIdParam, WebhookWithSecretSchema } from "./schemas";

export const rotateWebhookSecretRoute = defineRoute(
  {
    operationId: "webhooks.secret.rotate",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/webhooks/{webhookId}/rotate-secret",
    tags: ["Webhooks"],
    summary: "Rotate a webhook's signing secret (24 h overlap)",
    description:
      "Returns the new secret once. For 24 hours deliveries carry two signatures, `v1=<new>,v1=<previous>`, so the receiver can switch secrets without rejecting anything. Audited (without the secrets).",
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(WebhookWithSecretSchema, "The webhook with its new secret"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(await rotateWebhookSecret({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } }), 200);
  },
);
