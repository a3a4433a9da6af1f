import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { redeliver } from "../../services/webhooks";
import { DeliveryParams, DeliverySchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
  tags: ["Webhooks"],
  summary: "Send a delivery again now",
  description:
    "Scope: admin. Attempts the delivery immediately (whatever its status) and returns the outcome; if it fails, the retry schedule starts over. 409 conflict while the webhook is disabled. Audited.",
  security: bearerSecurity,
  request: { params: DeliveryParams },
  responses: { 200: jsonResponse(DeliverySchema, "The delivery after this attempt"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await redeliver({ ctx: c.var.ctx, input: { programId, ...c.req.valid("param") } }), 200);
  });
