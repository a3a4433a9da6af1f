import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listKeys } from "../../services/access/keys";
import { defineRoute } from "../route";
import { KeySchema } from "./schemas";

export const listApiKeysRoute = defineRoute(
  {
    operationId: "keys.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/keys",
    tags: ["Keys"],
    summary: "List the program's API keys (prefix only, never the secret)",
    description: "Newest first; revoked keys only with includeRevoked=true. Cursor pagination.",
    request: {
      query: PaginationQuery.extend({
        includeRevoked: z
          .enum(["true", "false"])
          .default("false")
          .transform((v) => v === "true"),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ data: z.array(KeySchema), nextCursor: z.string().nullable() }), "A page of keys"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json(await listKeys({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  },
);
