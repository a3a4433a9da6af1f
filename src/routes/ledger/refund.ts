import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { orders } from "../../../schema";
import { notFound } from "../../lib/errors";
import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse } from "../../lib/openapi";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { assertMayRefund } from "../../services/partner/scoping";
import { defineRoute } from "../route";
import { LedgerWriteSchema, RefundBody } from "./schemas";

export const refundOrderRoute = defineRoute(
  {
    operationId: "orders.refunds.create",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "post",
    path: "/v1/orders/{orderId}/refunds",
    tags: ["Points"],
    summary: "Refund an order: reverse the points it earned",
    description:
      "Reverses points in proportion to the amount refunded (a full refund reverses exactly what the order earned): from the order's own lots first, then the member's other available points. " +
      "Points already spent become a points debt (`pointsOwed`, the balance's `debt`, repaid first from the member's next points), or a negative balance where the program allows one. " +
      "409 refund_exceeds_order past the order amount. " +
      "A partner key refunds only its partner's orders and a storefront key only orders no partner created (403 order_of_another_source); an admin key any.",
    request: { params: z.object({ orderId: z.string().min(1).max(128) }), headers: IdempotencyHeaders, body: jsonBody(RefundBody) },
    responses: { 201: jsonResponse(LedgerWriteSchema, "Refund applied"), ...errorResponses(404, 409) },
  },
  async (c, principal) => {
    const { programId } = principal;
    const { orderId } = c.req.valid("param");
    const body = c.req.valid("json");
    const [order] = await c.var.ctx.db
      .select({
        memberId: orders.memberId,
        sourceScope: orders.sourceScope,
        sourceKeyId: orders.sourceKeyId,
        sourcePartner: orders.sourcePartner,
      })
      .from(orders)
      .where(and(eq(orders.programId, programId), eq(orders.orderId, orderId)))
      .limit(1);
    if (!order) throw notFound("Order");
    assertMayRefund(principal, orderId, order);
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({
        principal,
        memberId: order.memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: `refund:${orderId}`,
        body,
      }),
      (stub, req) => stub.refund(req, { orderId, amount: body.amount, reason: body.reason }),
    );
  },
);
