import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { MemberSchema } from "../../services/member-view";
import { findMemberByExternalId } from "../../services/members";

export const route = createRoute({
  method: "get",
  path: "/v1/members",
  tags: ["Members"],
  summary: "Find a member by the storefront's own customer id",
  description: "Scopes: storefront, admin, partner.",
  security: bearerSecurity,
  request: { query: z.object({ externalId: z.string().min(1).max(128).openapi({ example: "cust-1001" }) }) },
  responses: { 200: jsonResponse(MemberSchema, "The member"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin", "partner"]);
    const { externalId } = c.req.valid("query");
    return c.json(await findMemberByExternalId({ ctx: c.var.ctx, input: { programId, externalId } }), 200);
  });
