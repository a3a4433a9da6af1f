import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, MemberIdParam, PaginationQuery } from "../../lib/openapi";
import { listMemberFeedback } from "../../services/feedback/feedback";
import { defineRoute } from "../route";
import { FeedbackSchema } from "./schemas";

export const listFeedbackRoute = defineRoute(
  {
    operationId: "members.feedback.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/members/{memberId}/feedback",
    tags: ["Feedback"],
    summary: "A member's feedback, newest first",
    description: "Cursor-paged.",
    request: { params: MemberIdParam, query: PaginationQuery },
    responses: {
      200: jsonResponse(z.object({ data: z.array(FeedbackSchema), nextCursor: z.string().nullable() }), "A page of feedback"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    return c.json(
      await listMemberFeedback({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId, ...c.req.valid("query") } }),
      200,
    );
  },
);
