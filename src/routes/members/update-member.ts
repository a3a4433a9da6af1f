import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import { errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { assertScope } from "../../middleware/auth";
import { updateMember } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { defineRoute } from "../route";
import { UpdateMemberBody } from "./schemas";

export const updateMemberRoute = defineRoute(
  {
    operationId: "members.update",
    principals: { scopes: ["storefront", "admin"] },
    method: "patch",
    path: "/v1/members/{memberId}",
    tags: ["Members"],
    summary: "Update a member's profile, consent or status",
    description: `Attributes merge; an attribute set to null is removed; a member has at most ${FREE_FORM_LIMITS.memberAttributes} attributes. Only admin may block. An erased member cannot change (409 member_erased).`,
    request: { params: MemberIdParam, body: jsonBody(UpdateMemberBody) },
    responses: { 200: jsonResponse(MemberSchema, "The updated member"), ...errorResponses(404, 409) },
  },
  async (c, principal) => {
    const patch = c.req.valid("json");
    // Changing the status (blocking) is an admin decision; the other fields are the shopper's own.
    if (patch.status) assertScope(principal, ["admin"]);
    const { memberId } = c.req.valid("param");
    return c.json(await updateMember({ ctx: c.var.ctx, input: { programId: principal.programId, memberId, patch } }), 200);
  },
);
