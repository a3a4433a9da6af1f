import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { updateWebhook } from "../../services/webhooks";
import { UpdateWebhookBody, WebhookIdParam, WebhookSchema } from "./schemas";

export const route = createRoute({
  method: "patch",
  path: "/v1/webhooks/{webhookId}",
  tags: ["Webhooks"],
  summary: "Change a webhook's url, event types or status",
  description:
    "Scope: admin. status disabled parks pending deliveries; status active re-enables a (possibly automatically) disabled webhook, resets its failure streak and resumes its parked deliveries at once. Audited.",
  security: bearerSecurity,
  request: { params: WebhookIdParam, body: jsonBody(UpdateWebhookBody) },
  responses: { 200: jsonResponse(WebhookSchema, "The updated webhook"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(
      await updateWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId, patch: c.req.valid("json") } }),
      200,
    );
  });
