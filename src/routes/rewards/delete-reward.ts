import { errorResponses } from "../../lib/openapi";
import { deleteReward } from "../../services/rewards/rewards";
import { defineRoute } from "../route";
import { RewardIdParam } from "./schemas";

export const deleteRewardRoute = defineRoute(
  {
    operationId: "rewards.delete",
    principals: { scopes: ["admin"] },
    method: "delete",
    path: "/v1/rewards/{rewardId}",
    tags: ["Rewards"],
    summary: "Delete a reward that never issued a coupon",
    description: "Audited. A reward with issued coupons keeps its history: 409 conflict; deactivate it with PATCH {active: false} instead.",
    request: { params: RewardIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    await deleteReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId } });
    return c.body(null, 204);
  },
);
