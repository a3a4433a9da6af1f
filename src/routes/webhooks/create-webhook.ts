import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { createWebhook } from "../../services/webhooks";
import { CreateWebhookBody, WebhookWithSecretSchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/webhooks",
  tags: ["Webhooks"],
  summary: "Subscribe a partner endpoint to event types (the signing secret is shown once)",
  description:
    "Scope: admin. Events that happen from now on and match eventTypes are POSTed to url, signed with X-Loyalty-Signature, retried with exponential backoff for ~3 days. 409 limit_reached past 50 webhooks. Audited.",
  security: bearerSecurity,
  request: { body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonResponse(WebhookWithSecretSchema, "The subscription, with its secret"), ...errorResponses(409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await createWebhook({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId } }), 201);
  });
