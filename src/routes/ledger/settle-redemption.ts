import { errorResponses, IdempotencyHeaders, jsonResponse } from "../../lib/openapi";
import { getRedemption } from "../../services/ledger/redemptions";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { defineRoute } from "../route";
import { CheckoutResultSchema, RedemptionIdParam, RedemptionPointsBody } from "./schemas";

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
  async (c, principal) => {
    const { redemptionId } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const { memberId } = await getRedemption({ ctx: c.var.ctx, input: { programId: principal.programId, redemptionId } });
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({
        principal,
        memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: `redemption.capture:${redemptionId}`,
        body,
      }),
      (stub, req) => stub.captureRedemption(req, { redemptionId, points: body.points }),
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
  async (c, principal) => {
    const { redemptionId } = c.req.valid("param");
    const { memberId } = await getRedemption({ ctx: c.var.ctx, input: { programId: principal.programId, redemptionId } });
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({
        principal,
        memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: `redemption.void:${redemptionId}`,
        body: {},
      }),
      (stub, req) => stub.voidRedemption(req, { redemptionId }),
    );
  },
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
  async (c, principal) => {
    const { redemptionId } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const { memberId } = await getRedemption({ ctx: c.var.ctx, input: { programId: principal.programId, redemptionId } });
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({
        principal,
        memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: `redemption.reverse:${redemptionId}`,
        body,
      }),
      (stub, req) => stub.reverseRedemption(req, { redemptionId, points: body.points }),
    );
  },
);
