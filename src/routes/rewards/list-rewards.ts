import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listRewards, RewardSchema } from "../../services/rewards";

const Query = z.object({
  active: z.enum(["true", "false"]).optional().openapi({ description: "Only active (true) or inactive (false) rewards" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/rewards",
  tags: ["Rewards"],
  summary: "List the reward catalog",
  description: "Scopes: admin, storefront. Cheapest first. For what one member can redeem, use GET /v1/members/{memberId}/rewards.",
  security: bearerSecurity,
  request: { query: Query },
  responses: { 200: jsonResponse(z.object({ data: z.array(RewardSchema) }), "The program's rewards"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin", "storefront"]);
    const { active } = c.req.valid("query");
    return c.json(
      { data: await listRewards({ ctx: c.var.ctx, input: { programId, active: active === undefined ? undefined : active === "true" } }) },
      200,
    );
  });
