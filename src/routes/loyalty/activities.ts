import { z } from "@hono/zod-openapi";
import { ActivityAttributes } from "../../domain/members/free-form";
import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { LedgerWriteSchema, ReportedKind } from "../ledger/schemas";
import { defineRoute } from "../route";

const ActivityBody = z
  .object({
    kind: ReportedKind,
    occurredAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When it happened (default: now); bounded like an accrual's occurredAt" }),
    attributes: ActivityAttributes.optional(),
  })
  .strict()
  .openapi("Activity", { example: { kind: "review", attributes: { productSku: "SHOE-1", rating: 5 } } });

export const recordActivityRoute = defineRoute(
  {
    operationId: "members.activities.create",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/activities",
    tags: ["Points"],
    summary: "Record a non-purchase activity (review, survey, check-in, custom) and earn its points",
    description:
      "Runs the earning rules whose trigger matches the kind: review and survey their own, any other kind the activity rules that name it (or name no kind). Bonuses the system awards itself (signup, birthday, referral) are 400 invalid_request. occurredAt may be at most 5 minutes ahead of the server clock and, except with an admin key, no older than the program's back-dating window (backdateDays, default 30). Idempotent by Idempotency-Key.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(ActivityBody) },
    responses: { 201: jsonResponse(LedgerWriteSchema, "Activity recorded"), ...errorResponses(404, 409) },
  },
  async (c, principal) => {
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({ principal, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "activity", body }),
      (stub, req) => stub.recordActivity(req, body),
    );
  },
);
