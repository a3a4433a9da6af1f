import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listWebhooks } from "../../services/webhooks/subscriptions";
import { defineRoute } from "../route";
import { WebhookSchema } from "./schemas";

export const listWebhooksRoute = defineRoute(
  {
    operationId: "webhooks.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/webhooks",
    tags: ["Webhooks"],
    summary: "List the program's webhook subscriptions",
    description: "Newest first, cursor pagination. Secrets are never listed.",
    request: { query: PaginationQuery },
    responses: {
      200: jsonResponse(z.object({ data: z.array(WebhookSchema), nextCursor: z.string().nullable() }), "A page of webhooks"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json(await listWebhooks({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  },
);
