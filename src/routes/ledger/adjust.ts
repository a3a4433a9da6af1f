import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { respondWithLedgerWrite } from "../../services/ledger";
import { AdjustmentBody, LedgerWriteSchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/adjustments",
  tags: ["Points"],
  summary: "Adjust points (admin correction, ±)",
  description:
    "Scope: admin. A credit becomes an immediately available lot; a debit consumes lots and may go negative only if the program allows it.",
  security: bearerSecurity,
  request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(AdjustmentBody) },
  responses: { 201: jsonResponse(LedgerWriteSchema, "Adjustment written"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId, keyId } = await authorize(c, ["admin"]);
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      { programId, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "adjust", body },
      (stub, req) => stub.adjust(req, { points: body.points, reason: body.reason, sourceType: "admin", sourceId: keyId }),
    );
  });
