import type { Context } from "hono";
import type { MemberLedger, WriteRequest } from "../../durable/member-ledger";
import type { LedgerResult } from "../../ledger/result";
import type { AppBindings, Principal } from "../../lib/context";
import { errorResponses, IdempotencyHeaders, jsonResponse } from "../../lib/openapi";
import { getRedemption } from "../../services/ledger/redemptions";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { defineRoute } from "../route";
import { CheckoutResultSchema, RedemptionIdParam, RedemptionPointsBody } from "./schemas";

/**
 * Capture, void and reverse all settle one redemption in its member's Durable Object: find the
 * member from the redemption (404 for another program's), then write under the client's key.
 */
async function settle(
  c: Context<AppBindings>,
  principal: Principal,
  verb: "capture" | "void" | "reverse",
  redemptionId: string,
  idempotencyKey: string,
  body: object,
  call: (stub: DurableObjectStub<MemberLedger>, req: WriteRequest, redemptionId: string) => Promise<LedgerResult>,
) {
  const { memberId } = await getRedemption({ ctx: c.var.ctx, input: { programId: principal.programId, redemptionId } });
  return respondWithLedgerWrite(
    c,
    clientWriteRequest({ principal, memberId, idempotencyKey, operation: `redemption.${verb}:${redemptionId}`, body }),
    (stub, req) => call(stub, req, redemptionId),
  );
}

const optionalPoints = { required: false, content: { "application/json": { schema: RedemptionPointsBody } } };

export const captureRedemptionRoute = defineRoute(
  {
    operationId: "redemptions.capture",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/redemptions/{redemptionId}/capture",
    tags: ["Points"],
    summary: "Capture a reserve, all of it or part (the rest goes back)",
    description:
      "Keeps `points` of the reserve (default all); the rest returns to the lots it came from. 409 redemption_expired once the reserve has lapsed; 409 conflict if it is not a reserve any more.",
    request: { params: RedemptionIdParam, headers: IdempotencyHeaders, body: optionalPoints },
    responses: { 200: jsonResponse(CheckoutResultSchema, "Captured"), ...errorResponses(404, 409) },
  },
  (c, principal) => {
    const body = c.req.valid("json") ?? {};
    return settle(
      c,
      principal,
      "capture",
      c.req.valid("param").redemptionId,
      c.req.valid("header")["idempotency-key"],
      body,
      (stub, req, redemptionId) => stub.captureRedemption(req, { redemptionId, points: body.points }),
    );
  },
);

export const voidRedemptionRoute = defineRoute(
  {
    operationId: "redemptions.void",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/redemptions/{redemptionId}/void",
    tags: ["Points"],
    summary: "Void a reserve: its points go back",
    description:
      "Every reserved point returns to the lot it came from, with its original expiry. 409 if the reserve was captured or has lapsed.",
    request: { params: RedemptionIdParam, headers: IdempotencyHeaders },
    responses: { 200: jsonResponse(CheckoutResultSchema, "Voided"), ...errorResponses(404, 409) },
  },
  (c, principal) =>
    settle(
      c,
      principal,
      "void",
      c.req.valid("param").redemptionId,
      c.req.valid("header")["idempotency-key"],
      {},
      (stub, req, redemptionId) => stub.voidRedemption(req, { redemptionId }),
    ),
);

export const reverseRedemptionRoute = defineRoute(
  {
    operationId: "redemptions.reverse",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/redemptions/{redemptionId}/reverse",
    tags: ["Points"],
    summary: "Reverse a captured redemption (order cancelled), all or part",
    description:
      "The points go back to the lots they came from, with their original expiry dates (points whose lot has expired meanwhile lapse: `pointsLapsed`). " +
      "Partial reversals add up to at most what was captured: 409 reversal_exceeds_redemption past that.",
    request: { params: RedemptionIdParam, headers: IdempotencyHeaders, body: optionalPoints },
    responses: { 200: jsonResponse(CheckoutResultSchema, "Reversed"), ...errorResponses(404, 409) },
  },
  (c, principal) => {
    const body = c.req.valid("json") ?? {};
    return settle(
      c,
      principal,
      "reverse",
      c.req.valid("param").redemptionId,
      c.req.valid("header")["idempotency-key"],
      body,
      (stub, req, redemptionId) => stub.reverseRedemption(req, { redemptionId, points: body.points }),
    );
  },
);
