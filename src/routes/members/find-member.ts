import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { findMemberByExternalId } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { defineRoute } from "../route";

export const findMemberRoute = defineRoute(
  {
    operationId: "members.find",
    principals: { scopes: ["storefront", "admin", "partner"] },
    method: "get",
    path: "/v1/members",
    tags: ["Members"],
    summary: "Find a member by the storefront's own customer id",
    request: { query: z.object({ externalId: z.string().min(1).max(128).openapi({ example: "cust-1001" }) }) },
    responses: { 200: jsonResponse(MemberSchema, "The member"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { externalId } = c.req.valid("query");
    return c.json(await findMemberByExternalId({ ctx: c.var.ctx, input: { programId, externalId } }), 200);
  },
);
