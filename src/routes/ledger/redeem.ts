import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { respondWithLedgerWrite } from "../../services/ledger";
import { LedgerWriteSchema, RedemptionBody } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/redemptions",
  tags: ["Points"],
  summary: "Redeem points at checkout",
  description:
    "Scopes: storefront, admin. Consumes available lots first-to-expire first. 409 insufficient_points (nothing written) when the available balance is short.",
  security: bearerSecurity,
  request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(RedemptionBody) },
  responses: { 201: jsonResponse(LedgerWriteSchema, "Points redeemed"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "admin"]);
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      { programId, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "redeem", body },
      (stub, req) => stub.redeem(req, { points: body.points, reason: body.reason }),
    );
  });
