import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { MemberSchema } from "../../services/member-view";
import { eraseMember } from "../../services/members";
import { defineRoute } from "../route";

export const eraseMemberRoute = defineRoute(
  {
    operationId: "eraseMember",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/members/{memberId}/erase",
    tags: ["Members"],
    summary: "Erase a member's personal data (GDPR); the ledger is kept",
    description: "Removes profile, contact, attributes and tags; balances and ledger stay so the books balance.",
    request: { params: MemberIdParam },
    responses: { 200: jsonResponse(MemberSchema, "The erased member"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    return c.json(await eraseMember({ ctx: c.var.ctx, input: { programId, memberId } }), 200);
  },
);
