import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listRewards, RewardSchema } from "../../services/rewards/rewards";
import { defineRoute } from "../route";

const Query = z.object({
  active: z.enum(["true", "false"]).optional().openapi({ description: "Only active (true) or inactive (false) rewards" }),
});

export const listRewardsRoute = defineRoute(
  {
    operationId: "rewards.list",
    principals: { scopes: ["admin", "storefront"] },
    method: "get",
    path: "/v1/rewards",
    tags: ["Rewards"],
    summary: "List the reward catalog",
    description: "Cheapest first. For what one member can redeem, use GET /v1/members/{memberId}/rewards.",
    request: { query: Query },
    responses: { 200: jsonResponse(z.object({ data: z.array(RewardSchema) }), "The program's rewards"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const { active } = c.req.valid("query");
    return c.json(
      { data: await listRewards({ ctx: c.var.ctx, input: { programId, active: active === undefined ? undefined : active === "true" } }) },
      200,
    );
  },
);
