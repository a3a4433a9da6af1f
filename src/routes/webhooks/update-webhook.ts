import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { updateWebhook } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { UpdateWebhookBody, WebhookIdParam, WebhookSchema } from "./schemas";

export const updateWebhookRoute = defineRoute(
  {
    operationId: "webhooks.update",
    principals: { scopes: ["admin"] },
    method: "patch",
    path: "/v1/webhooks/{webhookId}",
    tags: ["Webhooks"],
    summary: "Change a webhook's url, event types, signature scheme or status",
    description:
      "scheme standard-webhooks moves a subscription from the deprecated X-Loyalty-Signature to Standard Webhooks, with the same secret. status disabled parks pending deliveries; status active re-enables a (possibly automatically) disabled webhook, resets its failure streak and resumes its parked deliveries at once. Audited.",
    request: { params: WebhookIdParam, body: jsonBody(UpdateWebhookBody) },
    responses: { 200: jsonResponse(WebhookSchema, "The updated webhook"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(
      await updateWebhook({ ctx: c.var.ctx, input: { programId, webhookId: c.req.valid("param").webhookId, patch: c.req.valid("json") } }),
      200,
    );
  },
);
