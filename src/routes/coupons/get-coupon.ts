import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { CouponSchema, validateCoupon } from "../../services/rewards/coupons";
import { defineRoute } from "../route";
import { CouponCodeParam } from "./schemas";

const Query = z.object({
  memberId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "The member checking out: a coupon of another member is then not valid (reason other_member)" }),
});

export const getCouponRoute = defineRoute(
  {
    operationId: "coupons.get",
    principals: { scopes: ["storefront", "admin"] },
    method: "get",
    path: "/v1/coupons/{code}",
    tags: ["Rewards"],
    summary: "Validate a coupon code at checkout",
    description: "Writes nothing. valid is false with a reason (consumed, cancelled, expired, other_member) when it cannot be used now.",
    request: { params: CouponCodeParam, query: Query },
    responses: { 200: jsonResponse(CouponSchema, "The coupon and whether it can be used"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(
      await validateCoupon({
        ctx: c.var.ctx,
        input: { programId, code: c.req.valid("param").code, memberId: c.req.valid("query").memberId },
      }),
      200,
    );
  },
);
