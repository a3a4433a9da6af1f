import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { createReward, RewardCreateBody, RewardSchema } from "../../services/rewards";

export const route = createRoute({
  method: "post",
  path: "/v1/rewards",
  tags: ["Rewards"],
  summary: "Create a reward in the catalog",
  description:
    "Scope: admin. Audited. kind coupon_percent needs value 1–100 (percent off), fixed_discount needs value (minor units off), free_product needs productSku. inventory is the total number of units (null = unlimited); perMemberLimit caps coupons per member; tierIds restricts redemption to those tiers (empty = all).",
  security: bearerSecurity,
  request: { body: jsonBody(RewardCreateBody) },
  responses: { 201: jsonResponse(RewardSchema, "The new reward"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await createReward({ ctx: c.var.ctx, input: { programId, body: c.req.valid("json") } }), 201);
  });
