import { createRoute } from "@hono/zod-openapi";
import { authorize } from "../../middleware/auth";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { MemberSchema } from "../../services/member-view";
import { getMember } from "../../services/members";

export const route = createRoute({
  method: "get",
  path: "/v1/members/{memberId}",
  tags: ["Members"],
  summary: "Look up a member: profile, tier, balance and scores",
  description: "Scopes: storefront, admin, partner. One indexed read.",
  security: bearerSecurity,
  request: { params: MemberIdParam },
  responses: { 200: jsonResponse(MemberSchema, "The member"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin", "partner"]);
    const { memberId } = c.req.valid("param");
    return c.json(await getMember({ ctx: c.var.ctx, input: { programId, memberId, withSegments: true } }), 200);
  });
