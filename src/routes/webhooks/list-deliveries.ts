import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listDeliveries } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { DeliverySchema, WebhookIdParam } from "./schemas";

export const listWebhookDeliveriesRoute = defineRoute(
  {
    operationId: "webhooks.deliveries.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/webhooks/{webhookId}/deliveries",
    tags: ["Webhooks"],
    summary: "A webhook's delivery log, newest first",
    description:
      "Each delivery with its status (pending, delivered, failed), attempts, next attempt, last HTTP status and error, and the exact payload. Filter by status; cursor pagination.",
    request: { params: WebhookIdParam, query: PaginationQuery.extend({ status: z.enum(["pending", "delivered", "failed"]).optional() }) },
    responses: {
      200: jsonResponse(z.object({ data: z.array(DeliverySchema), nextCursor: z.string().nullable() }), "A page of deliveries"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    return c.json(
      await listDeliveries({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId, webhookId: c.req.valid("param").webhookId } }),
      200,
    );
  },
);
