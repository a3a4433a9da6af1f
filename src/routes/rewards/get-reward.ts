import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getReward, RewardSchema } from "../../services/rewards";
import { RewardIdParam } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/rewards/{rewardId}",
  tags: ["Rewards"],
  summary: "Get a reward",
  description: "Scopes: admin, storefront. inventoryRemaining is the live stock.",
  security: bearerSecurity,
  request: { params: RewardIdParam },
  responses: { 200: jsonResponse(RewardSchema, "The reward"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin", "storefront"]);
    return c.json(await getReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId } }), 200);
  });
