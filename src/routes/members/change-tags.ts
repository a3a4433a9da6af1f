import { createRoute } from "@hono/zod-openapi";
import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { MemberSchema } from "../../services/member-view";
import { changeTags } from "../../services/members";
import { TagsBody } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/tags",
  tags: ["Members"],
  summary: "Add and remove tags",
  description: `Scopes: storefront, admin. A member has at most ${FREE_FORM_LIMITS.memberTags} tags (400 past that); \
an erased member's tags cannot change (409 member_erased).`,
  security: bearerSecurity,
  request: { params: MemberIdParam, body: jsonBody(TagsBody) },
  responses: { 200: jsonResponse(MemberSchema, "The member with its new tags"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    const { memberId } = c.req.valid("param");
    return c.json(await changeTags({ ctx: c.var.ctx, input: { programId, memberId, ...c.req.valid("json") } }), 200);
  });
