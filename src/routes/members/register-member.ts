import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { getMember, registerMember } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { awardTrigger, hasActiveRule } from "../../services/rules/trigger-awards";
import { defineRoute } from "../route";
import { RegisterMemberBody } from "./schemas";

export const registerMemberRoute = defineRoute(
  {
    operationId: "members.register",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/members",
    tags: ["Members"],
    summary: "Register a member (idempotent on externalId)",
    description: "Registering the same externalId again returns the existing member with 200.",
    request: { body: jsonBody(RegisterMemberBody) },
    responses: {
      201: jsonResponse(MemberSchema, "Member created"),
      200: jsonResponse(MemberSchema, "Member already registered with this externalId"),
      ...errorResponses(409),
    },
  },
  async (c, { programId }) => {
    const ctx = c.var.ctx;
    const result = await registerMember({ ctx, input: { ...c.req.valid("json"), programId } });
    // Signup bonus rules: awarded once (keyed by member), also when a retried registration finds the member.
    if (result.member.lifetime.earned === 0 && (await hasActiveRule(ctx.db, programId, "signup"))) {
      const award = await awardTrigger(c.env, { programId, memberId: result.member.id, kind: "signup" });
      if (award.ok) return c.json(await getMember({ ctx, input: { programId, memberId: result.member.id } }), result.created ? 201 : 200);
    }
    return c.json(result.member, result.created ? 201 : 200);
  },
);
