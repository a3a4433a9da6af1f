import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { rotateWebhookSecret } from "../../services/webhooks";
import { WebhookIdParam, WebhookWithSecretSchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/webhooks/{webhookId}/rotate-secret",
  tags: ["Webhooks"],
  summary: "Rotate a webhook's signing secret (24 h overlap)",
  description:
    "Scope: admin. Returns the new secret once. For 24 hours deliveries carry two signatures, `v1=<new>,v1=<previous>`, so the receiver can switch secrets without rejecting anything. Audited (without the secrets).",
  security: bearerSecurity,
  request: { params: WebhookIdParam },
  responses: { 200: jsonResponse(WebhookWithSecretSchema, "The webhook with its new secret"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await rotateWebhookSecret({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } }), 200);
  });
