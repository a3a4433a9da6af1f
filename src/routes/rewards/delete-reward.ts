import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { deleteReward } from "../../services/rewards";
import { RewardIdParam } from "./schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/rewards/{rewardId}",
  tags: ["Rewards"],
  summary: "Delete a reward that never issued a coupon",
  description:
    "Scope: admin. Audited. A reward with issued coupons keeps its history: 409 conflict; deactivate it with PATCH {active: false} instead.",
  security: bearerSecurity,
  request: { params: RewardIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    await deleteReward({ ctx: c.var.ctx, input: { programId, rewardId: c.req.valid("param").rewardId } });
    return c.body(null, 204);
  });
