import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { RewardPatchBody, RewardSchema, updateReward } from "../../services/rewards";
import { RewardIdParam } from "./schemas";

export const route = createRoute({
  method: "patch",
  path: "/v1/rewards/{rewardId}",
  tags: ["Rewards"],
  summary: "Update a reward",
  description:
    "Scope: admin. Audited. Fields merge into the reward, which is validated as a whole. A new inventory total moves the remaining stock by the difference (409 conflict if that would go below what is already issued); active: false withdraws it from the catalog.",
  security: bearerSecurity,
  request: { params: RewardIdParam, body: jsonBody(RewardPatchBody) },
  responses: { 200: jsonResponse(RewardSchema, "The updated reward"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(
      await updateReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId, patch: c.req.valid("json") } }),
      200,
    );
  });
