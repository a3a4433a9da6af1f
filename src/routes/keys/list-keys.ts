import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listKeys } from "../../services/keys";
import { KeySchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/keys",
  tags: ["Keys"],
  summary: "List the program's API keys (prefix only, never the secret)",
  description: "Scope: admin. Newest first; revoked keys only with includeRevoked=true. Cursor pagination.",
  security: bearerSecurity,
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
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await listKeys({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  });
