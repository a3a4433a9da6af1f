import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { CouponSchema, consumeCoupon } from "../../services/rewards/coupons";
import { defineRoute } from "../route";
import { CouponCodeParam } from "./schemas";

const ConsumeBody = z
  .object({
    orderId: z.string().trim().min(1).max(128).optional(),
    memberId: z.string().min(1).max(64).optional().openapi({ description: "If given, the coupon must belong to this member" }),
  })
  .strict()
  .openapi("ConsumeCoupon", { example: { orderId: "order-1002" } });

export const consumeCouponRoute = defineRoute(
  {
    operationId: "coupons.consume",
    principals: { scopes: ["storefront"] },
    method: "post",
    path: "/v1/coupons/{code}/consume",
    tags: ["Rewards"],
    summary: "Use a coupon (once)",
    description:
      "Marks the coupon used, with the order it was used on, and emits coupon.consumed. Exactly one of concurrent consumes succeeds; any later one, or a cancelled or expired coupon, answers 409 coupon_not_valid with details.reason.",
    request: { params: CouponCodeParam, body: { required: false, content: { "application/json": { schema: ConsumeBody } } } },
    responses: { 200: jsonResponse(CouponSchema, "Coupon consumed"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    const body = c.req.valid("json") ?? {};
    return c.json(
      await consumeCoupon({
        ctx: c.var.ctx,
        input: { programId, code: c.req.valid("param").code, orderId: body.orderId, memberId: body.memberId },
      }),
      200,
    );
  },
);
