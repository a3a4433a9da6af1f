import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listMemberRewards, MemberRewardSchema } from "../../services/rewards";
import { BalanceSchema } from "../ledger/schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/members/{memberId}/rewards",
  tags: ["Rewards"],
  summary: "Rewards a member can see, with affordable and eligible flags",
  description:
    "Scopes: storefront, admin. Active rewards inside their window, cheapest first. affordable: the member's available points cover the cost. eligible: nothing else stands in the way; otherwise reason.code is tier_restricted, limit_reached, out_of_stock or member_inactive.",
  security: bearerSecurity,
  request: { params: MemberIdParam },
  responses: {
    200: jsonResponse(z.object({ balance: BalanceSchema, data: z.array(MemberRewardSchema) }), "The member's catalog"),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    return c.json(await listMemberRewards({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId } }), 200);
  });
