import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { eraseMember } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { defineRoute } from "../route";

export const eraseMemberRoute = defineRoute(
  {
    operationId: "members.erase",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/members/{memberId}/erase",
    tags: ["Members"],
    summary: "Erase a member's personal data (GDPR); the ledger is kept",
    description:
      "Removes the member's personal data from every table that holds a copy (profile, contact, attributes, tags, activity attributes and free-text reasons in the ledger, stored answers, event and delivery payloads, messages, feedback text) in one batch; balances, ledger points, orders and lots stay so the books balance. Keeps a tombstone of the id. Erasing again re-applies it. Afterwards profile writes and new earning or spending answer 409 member_erased; refunds and admin adjustments still apply.",
    request: { params: MemberIdParam },
    responses: { 200: jsonResponse(MemberSchema, "The erased member"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    return c.json(await eraseMember({ ctx: c.var.ctx, input: { programId, memberId } }), 200);
  },
);
