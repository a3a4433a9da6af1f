import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { defineRoute } from "../route";
import { AdjustmentBody, LedgerWriteSchema } from "./schemas";

export const adjustPointsRoute = defineRoute(
  {
    operationId: "members.adjustments.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/members/{memberId}/adjustments",
    tags: ["Points"],
    summary: "Adjust points (admin correction, ±)",
    description: "A credit becomes an immediately available lot; a debit consumes lots and may go negative only if the program allows it.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(AdjustmentBody) },
    responses: { 201: jsonResponse(LedgerWriteSchema, "Adjustment written"), ...errorResponses(404, 409) },
  },
  async (c, principal) => {
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({ principal, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "adjust", body }),
      (stub, req) => stub.adjust(req, { points: body.points, reason: body.reason, sourceType: "admin", sourceId: principal.keyId }),
    );
  },
);
