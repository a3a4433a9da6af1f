import { createRoute } from "@hono/zod-openapi";
import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { MemberSchema } from "../../services/member-view";
import { updateMember } from "../../services/members";
import { UpdateMemberBody } from "./schemas";

export const route = createRoute({
  method: "patch",
  path: "/v1/members/{memberId}",
  tags: ["Members"],
  summary: "Update a member's profile, consent or status",
  description: `Scopes: storefront, admin. Attributes merge; an attribute set to null is removed; \
a member has at most ${FREE_FORM_LIMITS.memberAttributes} attributes. Only admin may block. An erased member cannot change (409 member_erased).`,
  security: bearerSecurity,
  request: { params: MemberIdParam, body: jsonBody(UpdateMemberBody) },
  responses: { 200: jsonResponse(MemberSchema, "The updated member"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const principal = await authorize(c, ["storefront", "admin"]);
    const patch = c.req.valid("json");
    if (patch.status && principal.scope !== "admin") {
      await authorize(c, ["admin"]);
    }
    const { memberId } = c.req.valid("param");
    return c.json(await updateMember({ ctx: c.var.ctx, input: { programId: principal.programId, memberId, patch } }), 200);
  });
