import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getReward, RewardSchema } from "../../services/rewards/rewards";
import { defineRoute } from "../route";
import { RewardIdParam } from "./schemas";

export const getRewardRoute = defineRoute(
  {
    operationId: "rewards.get",
    principals: { scopes: ["admin", "storefront"] },
    method: "get",
    path: "/v1/rewards/{rewardId}",
    tags: ["Rewards"],
    summary: "Get a reward",
    description: "inventoryRemaining is the live stock.",
    request: { params: RewardIdParam },
    responses: { 200: jsonResponse(RewardSchema, "The reward"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(await getReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId } }), 200);
  },
);
