import { errorResponses } from "../../lib/openapi";
import { deleteWebhook } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { WebhookIdParam } from "./schemas";

export const deleteWebhookRoute = defineRoute(
  {
    operationId: "webhooks.delete",
    principals: { scopes: ["admin"] },
    method: "delete",
    path: "/v1/webhooks/{webhookId}",
    tags: ["Webhooks"],
    summary: "Delete a webhook subscription and its delivery log",
    description: "Pending deliveries are dropped. Audited.",
    request: { params: WebhookIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
  },
  async (c, { programId }) => {
    await deleteWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId } });
    return c.body(null, 204);
  },
);
