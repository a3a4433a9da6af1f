import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, MemberIdParam, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listMemberReferrals, ReferralSchema, referralStatuses } from "../../services/referrals";

const Totals = z.object({
  count: z.number().int(),
  byStatus: z.record(z.enum(referralStatuses), z.number().int()),
  pointsEarned: z.number().int().openapi({ description: "Points credited to this member for rewarded referrals" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/members/{memberId}/referrals",
  tags: ["Referrals"],
  summary: "A member's referrals and totals",
  description:
    "Scopes: storefront, admin. The members this member referred (newest first, cursor pagination) with counts per status and points earned, and referredBy: the referral that brought this member in, if any.",
  security: bearerSecurity,
  request: { params: MemberIdParam, query: PaginationQuery },
  responses: {
    200: jsonResponse(
      z.object({ referredBy: ReferralSchema.nullable(), data: z.array(ReferralSchema), nextCursor: z.string().nullable(), totals: Totals }),
      "Referrals",
    ),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    const { limit, cursor } = c.req.valid("query");
    return c.json(
      await listMemberReferrals({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId, limit, cursor } }),
      200,
    );
  });
