import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { RewardPatchBody, RewardSchema, updateReward } from "../../services/rewards/rewards";
import { defineRoute } from "../route";
import { RewardIdParam } from "./schemas";

export const updateRewardRoute = defineRoute(
  {
    operationId: "rewards.update",
    principals: { scopes: ["admin"] },
    method: "patch",
    path: "/v1/rewards/{rewardId}",
    tags: ["Rewards"],
    summary: "Update a reward",
    description:
      "Audited. Fields merge into the reward, which is validated as a whole. A new inventory total moves the remaining stock by the difference (409 conflict if that would go below what is already issued); active: false withdraws it from the catalog.",
    request: { params: RewardIdParam, body: jsonBody(RewardPatchBody) },
    responses: { 200: jsonResponse(RewardSchema, "The updated reward"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    return c.json(
      await updateReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId, patch: c.req.valid("json") } }),
      200,
    );
  },
);
