import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, MemberIdParam, PaginationQuery } from "../../lib/openapi";
import { listMemberReferrals, ReferralSchema, referralStatuses } from "../../services/referrals/referrals";
import { defineRoute } from "../route";

const Totals = z.object({
  count: z.number().int(),
  byStatus: z.record(z.enum(referralStatuses), z.number().int()),
  pointsEarned: z.number().int().openapi({ description: "Points credited to this member for rewarded referrals" }),
});

export const listMemberReferralsRoute = defineRoute(
  {
    operationId: "members.referrals.list",
    principals: { scopes: ["storefront", "admin"], member: "read" },
    method: "get",
    path: "/v1/members/{memberId}/referrals",
    tags: ["Referrals"],
    summary: "A member's referrals and totals",
    description:
      "The members this member referred (newest first, cursor pagination) with counts per status and points earned, and referredBy: the referral that brought this member in, if any.",
    request: { params: MemberIdParam, query: PaginationQuery },
    responses: {
      200: jsonResponse(
        z.object({
          referredBy: ReferralSchema.nullable(),
          data: z.array(ReferralSchema),
          nextCursor: z.string().nullable(),
          totals: Totals,
        }),
        "Referrals",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(
      await listMemberReferrals({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId, limit, cursor } }),
      200,
    );
  },
);
