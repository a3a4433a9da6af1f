import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getWebhook } from "../../services/webhooks";
import { WebhookIdParam, WebhookSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/webhooks/{webhookId}",
  tags: ["Webhooks"],
  summary: "Get a webhook subscription and its health",
  description: "Scope: admin. Shows status, the reason it was disabled, and the current failure streak.",
  security: bearerSecurity,
  request: { params: WebhookIdParam },
  responses: { 200: jsonResponse(WebhookSchema, "The webhook"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await getWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } }), 200);
  });
