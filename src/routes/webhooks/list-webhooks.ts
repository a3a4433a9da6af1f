import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listWebhooks } from "../../services/webhooks";
import { WebhookSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/webhooks",
  tags: ["Webhooks"],
  summary: "List the program's webhook subscriptions",
  description: "Scope: admin. Newest first, cursor pagination. Secrets are never listed.",
  security: bearerSecurity,
  request: { query: PaginationQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(WebhookSchema), nextCursor: z.string().nullable() }), "A page of webhooks"),
    ...errorResponses(),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await listWebhooks({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  });
