import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getWebhook } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { WebhookIdParam, WebhookSchema } from "./schemas";

export const getWebhookRoute = defineRoute(
  {
    operationId: "webhooks.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/webhooks/{webhookId}",
    tags: ["Webhooks"],
    summary: "Get a webhook subscription and its health",
    description: "Shows status, the reason it was disabled, and the current failure streak.",
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(WebhookSchema, "The webhook"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(await getWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } }), 200);
  },
);
