import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { searchMembers } from "../../services/members/search";
import { defineRoute } from "../route";

const MemberSearchHit = z
  .object({
    id: z.string(),
    externalId: z.string(),
    status: z.enum(["active", "blocked", "erased", "merged"]),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    name: z.string().nullable(),
    tier: z.object({ id: z.string(), name: z.string() }).nullable(),
    createdAt: z.string(),
  })
  .openapi("MemberSearchHit");

export const searchMembersRoute = defineRoute(
  {
    operationId: "members.search",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/members/search",
    tags: ["Members"],
    summary: "Search members by email, phone, name prefix or external id (staff)",
    description:
      "For support and the dashboard: `email` matches case-insensitively, `phone` by its digits (spaces, dashes, brackets and + ignored), `externalId` exactly, `name` by case-insensitive prefix. Each is an index range, paged by `nextCursor`. Staff from the viewer role; storefront and partner keys are refused (they look members up by their own ids).",
    request: {
      query: z.object({
        field: z.enum(["email", "phone", "name", "externalId"]).openapi({ example: "email" }),
        q: z.string().min(1).max(254).openapi({ example: "ana@example.com" }),
        limit: z.coerce.number().int().min(1).max(100).default(25),
        cursor: z.string().max(600).optional().openapi({ description: "nextCursor of the previous page" }),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ data: z.array(MemberSearchHit), nextCursor: z.string().nullable() }), "Matching members, in key order"),
      ...errorResponses(400),
    },
  },
  async (c, { programId }) => {
    const { field, q, limit, cursor } = c.req.valid("query");
    return c.json(await searchMembers({ ctx: c.var.ctx, input: { programId, field, q, limit, cursor } }), 200);
  },
);
