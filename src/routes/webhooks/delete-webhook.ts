import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { deleteWebhook } from "../../services/webhooks";
import { WebhookIdParam } from "./schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/webhooks/{webhookId}",
  tags: ["Webhooks"],
  summary: "Delete a webhook subscription and its delivery log",
  description: "Scope: admin. Pending deliveries are dropped. Audited.",
  security: bearerSecurity,
  request: { params: WebhookIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    await deleteWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } });
    return c.body(null, 204);
  });
