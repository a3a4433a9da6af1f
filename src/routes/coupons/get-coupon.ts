import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { CouponSchema, validateCoupon } from "../../services/coupons";
import { CouponCodeParam } from "./schemas";

const Query = z.object({
  memberId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "The member checking out: a coupon of another member is then not valid (reason other_member)" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/coupons/{code}",
  tags: ["Rewards"],
  summary: "Validate a coupon code at checkout",
  description:
    "Scopes: storefront, admin. Writes nothing. valid is false with a reason (consumed, cancelled, expired, other_member) when it cannot be used now.",
  security: bearerSecurity,
  request: { params: CouponCodeParam, query: Query },
  responses: { 200: jsonResponse(CouponSchema, "The coupon and whether it can be used"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    return c.json(
      await validateCoupon({
        ctx: c.var.ctx,
        input: { programId, code: c.req.valid("param").code, memberId: c.req.valid("query").memberId },
      }),
      200,
    );
  });
