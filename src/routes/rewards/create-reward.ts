import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { createReward, RewardCreateBody, RewardSchema } from "../../services/rewards/rewards";
import { defineRoute } from "../route";

export const createRewardRoute = defineRoute(
  {
    operationId: "rewards.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/rewards",
    tags: ["Rewards"],
    summary: "Create a reward in the catalog",
    description:
      "Audited. kind coupon_percent needs value 1–100 (percent off), fixed_discount needs value (minor units off), free_product needs productSku. inventory is the total number of units (null = unlimited); perMemberLimit caps coupons per member; tierIds restricts redemption to those tiers (empty = all).",
    request: { body: jsonBody(RewardCreateBody) },
    responses: { 201: jsonResponse(RewardSchema, "The new reward"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await createReward({ ctx: c.var.ctx, input: { programId, body: c.req.valid("json") } }), 201);
  },
);
