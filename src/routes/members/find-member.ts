import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { findMemberByExternalId } from "../../services/members/members";
import { MemberSchema } from "../../services/members/view";
import { assertMemberVisible } from "../../services/partner/scoping";
import { defineRoute } from "../route";
import { mergedRedirect } from "./merged-redirect";

export const findMemberRoute = defineRoute(
  {
    operationId: "members.find",
    principals: { scopes: ["storefront", "admin", "partner"] },
    method: "get",
    path: "/v1/members",
    tags: ["Members"],
    summary: "Find a member by the storefront's own customer id",
    description:
      "A member merged into another answers `308` with `Location` of that member and the tombstone, whose `mergedInto` names it: the customer id of a merged duplicate still finds the member.",
    request: { query: z.object({ externalId: z.string().min(1).max(128).openapi({ example: "cust-1001" }) }) },
    responses: { 200: jsonResponse(MemberSchema, "The member"), 308: mergedRedirect.response, ...errorResponses(404) },
  },
  async (c, principal) => {
    const { externalId } = c.req.valid("query");
    const member = await findMemberByExternalId({ ctx: c.var.ctx, input: { programId: principal.programId, externalId } });
    await assertMemberVisible(c.var.ctx, principal, member.id);
    if (member.status === "merged" && member.mergedInto) return mergedRedirect.send(c, member);
    return c.json(member, 200);
  },
);
