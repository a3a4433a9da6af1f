import { z } from "@hono/zod-openapi";
import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { submitFeedback } from "../../services/feedback/feedback";
import { defineRoute } from "../route";
import { FeedbackBody, FeedbackSchema } from "./schemas";

const Response = FeedbackSchema.extend({
  earning: z
    .object({ pointsEarned: z.number().int(), error: z.object({ code: z.string(), message: z.string() }).optional() })
    .nullable()
    .openapi({
      description:
        "Points from the program's survey/review earning rules (an NPS answer counts as a survey), null when no rules engine is present",
    }),
});

export const recordFeedbackRoute = defineRoute(
  {
    operationId: "members.feedback.create",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/feedback",
    tags: ["Feedback"],
    summary: "Record a member's NPS answer, survey or review",
    description:
      "Updates the member's last NPS and feedback tags (usable in segment rules) and runs the program's survey/review earning rules through the member's ledger (idempotent on feedback:<id>). NPS per program appears in the KPIs. Idempotent by Idempotency-Key: a retry answers with the original feedback and earning (Idempotent-Replayed: true) and records nothing; the same key with a different body or member is 409 idempotency_conflict.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(FeedbackBody) },
    responses: { 201: jsonResponse(Response, "Recorded (or the original result on replay)"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const result = await submitFeedback({
      ctx: c.var.ctx,
      input: { programId, memberId: c.req.valid("param").memberId, idempotencyKey, ...c.req.valid("json") },
    });
    c.header("idempotent-replayed", String(result.replayed));
    return c.json(result.body, 201);
  },
);
