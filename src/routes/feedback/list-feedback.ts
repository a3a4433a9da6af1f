import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, MemberIdParam, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listMemberFeedback } from "../../services/feedback";
import { FeedbackSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/members/{memberId}/feedback",
  tags: ["Feedback"],
  summary: "A member's feedback, newest first",
  description: "Scope: admin. Cursor-paged.",
  security: bearerSecurity,
  request: { params: MemberIdParam, query: PaginationQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(FeedbackSchema), nextCursor: z.string().nullable() }), "A page of feedback"),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(
      await listMemberFeedback({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId, ...c.req.valid("query") } }),
      200,
    );
  });
