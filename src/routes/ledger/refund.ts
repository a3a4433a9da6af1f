import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { orders } from "../../../schema";
import type { App } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { bearerSecurity, errorResponses, IdempotencyHeaders, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { respondWithLedgerWrite } from "../../services/ledger";
import { LedgerWriteSchema, RefundBody } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/orders/{orderId}/refunds",
  tags: ["Points"],
  summary: "Refund an order: reverse the points it earned",
  description:
    "Scopes: storefront, partner, admin. Reverses points in proportion to the amount refunded (a full refund reverses exactly what the order earned). 409 refund_exceeds_order past the order amount.",
  security: bearerSecurity,
  request: { params: z.object({ orderId: z.string().min(1).max(128) }), headers: IdempotencyHeaders, body: jsonBody(RefundBody) },
  responses: { 201: jsonResponse(LedgerWriteSchema, "Refund applied"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "partner", "admin"]);
    const { orderId } = c.req.valid("param");
    const body = c.req.valid("json");
    const [order] = await c.var.ctx.db
      .select({ memberId: orders.memberId })
      .from(orders)
      .where(and(eq(orders.programId, programId), eq(orders.orderId, orderId)))
      .limit(1);
    if (!order) throw notFound("Order");
    return respondWithLedgerWrite(
      c,
      {
        programId,
        memberId: order.memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: `refund:${orderId}`,
        body,
      },
      (stub, req) => stub.refund(req, { orderId, amount: body.amount, reason: body.reason }),
    );
  });
