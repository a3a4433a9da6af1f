import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listDeliveries } from "../../services/webhooks";
import { DeliverySchema, WebhookIdParam } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/webhooks/{webhookId}/deliveries",
  tags: ["Webhooks"],
  summary: "A webhook's delivery log, newest first",
  description:
    "Scope: admin. Each delivery with its status (pending, delivered, failed), attempts, next attempt, last HTTP status and error, and the exact payload. Filter by status; cursor pagination.",
  security: bearerSecurity,
  request: { params: WebhookIdParam, query: PaginationQuery.extend({ status: z.enum(["pending", "delivered", "failed"]).optional() }) },
  responses: {
    200: jsonResponse(z.object({ data: z.array(DeliverySchema), nextCursor: z.string().nullable() }), "A page of deliveries"),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(
      await listDeliveries({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId, webhookId: c.req.valid("param").webhookId } }),
      200,
    );
  });
