import { errorResponses, jsonResponse } from "../../lib/openapi";
import { redeliver } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { DeliveryParams, DeliverySchema } from "./schemas";

export const redeliverWebhookDeliveryRoute = defineRoute(
  {
    operationId: "webhooks.deliveries.redeliver",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    tags: ["Webhooks"],
    summary: "Send a delivery again now",
    description:
      "Attempts the delivery immediately (whatever its status) and returns the outcome; if it fails, the retry schedule starts over. 409 conflict while the webhook is disabled. Audited.",
    request: { params: DeliveryParams },
    responses: { 200: jsonResponse(DeliverySchema, "The delivery after this attempt"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    return c.json(await redeliver({ ctx: c.var.ctx, input: { programId, ...c.req.valid("param") } }), 200);
  },
);
