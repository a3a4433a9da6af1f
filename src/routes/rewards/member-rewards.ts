import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { listMemberRewards, MemberRewardSchema } from "../../services/rewards/rewards";
import { BalanceSchema } from "../ledger/schemas";
import { defineRoute } from "../route";

export const listMemberRewardsRoute = defineRoute(
  {
    operationId: "members.rewards.list",
    principals: { scopes: ["storefront", "admin"], member: "read" },
    method: "get",
    path: "/v1/members/{memberId}/rewards",
    tags: ["Rewards"],
    summary: "Rewards a member can see, with affordable and eligible flags",
    description:
      "Active rewards inside their window, cheapest first. affordable: the member's available points cover the cost. eligible: nothing else stands in the way; otherwise reason.code is tier_restricted, limit_reached, out_of_stock or member_inactive.",
    request: { params: MemberIdParam },
    responses: {
      200: jsonResponse(z.object({ balance: BalanceSchema, data: z.array(MemberRewardSchema) }), "The member's catalog"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    return c.json(await listMemberRewards({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId } }), 200);
  },
);
