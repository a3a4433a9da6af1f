import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { submitFeedback } from "../../services/feedback";
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

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/feedback",
  tags: ["Feedback"],
  summary: "Record a member's NPS answer, survey or review",
  description:
    "Scopes: storefront, admin. Updates the member's last NPS and feedback tags (usable in segment rules) and runs the program's survey/review earning rules through the member's ledger (idempotent on feedback:<id>). NPS per program appears in the KPIs. Idempotent by Idempotency-Key: a retry answers with the original feedback and earning (Idempotent-Replayed: true) and records nothing; the same key with a different body or member is 409 idempotency_conflict.",
  security: bearerSecurity,
  request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(FeedbackBody) },
  responses: { 201: jsonResponse(Response, "Recorded (or the original result on replay)"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const result = await submitFeedback({
      ctx: c.var.ctx,
      input: { programId, memberId: c.req.valid("param").memberId, idempotencyKey, ...c.req.valid("json") },
    });
    c.header("idempotent-replayed", String(result.replayed));
    return c.json(result.body, 201);
  });
