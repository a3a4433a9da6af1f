import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import { errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { changeTags } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { defineRoute } from "../route";
import { TagsBody } from "./schemas";

export const changeMemberTagsRoute = defineRoute(
  {
    operationId: "members.tags.change",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/tags",
    tags: ["Members"],
    summary: "Add and remove tags",
    description: `A member has at most ${FREE_FORM_LIMITS.memberTags} tags (400 past that); an erased member's tags cannot change (409 member_erased).`,
    request: { params: MemberIdParam, body: jsonBody(TagsBody) },
    responses: { 200: jsonResponse(MemberSchema, "The member with its new tags"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    return c.json(await changeTags({ ctx: c.var.ctx, input: { programId, memberId, ...c.req.valid("json") } }), 200);
  },
);
