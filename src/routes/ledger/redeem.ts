import { AppError } from "../../lib/errors";
import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { QueuedWriteSchema } from "../../services/ledger/queued-writes";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { assertMemberVisible } from "../../services/partner/scoping";
import { defineRoute } from "../route";
import { CheckoutResultSchema, RedemptionBody } from "./schemas";

export const redeemPointsRoute = defineRoute(
  {
    operationId: "members.redemptions.create",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/redemptions",
    tags: ["Points"],
    summary: "Redeem points at checkout, or reserve them (capture: false)",
    description:
      "Consumes available lots first-to-expire first. 409 insufficient_points (nothing written) when the available balance is short. " +
      "With `capture: false` the points are reserved: they leave `available`, show as `reserved`, and come back by themselves after " +
      "`holdSeconds` unless captured (`/v1/redemptions/{id}/capture`) or voided (`…/void`) first. A captured redemption can be reversed (`…/reverse`). " +
      "A partner key redeems at its partner (the settlement report's `pointsRedeemed`), at once (`capture: false` is 400), only for members it may read (404 otherwise). " +
      "When the database is out of reach, an immediate redemption (`capture: true`) is stored in the member's Durable Object and answered 202 " +
      "if it fits in the balance the database last confirmed to that object, less redemptions already waiting; otherwise, or for a reserve, or when the object never saw " +
      "the member's balance, 503 ledger_unavailable (details.reason, details.spendableOffline). Applied in order as soon as the database answers.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(RedemptionBody) },
    responses: {
      201: jsonResponse(CheckoutResultSchema, "Points redeemed or reserved"),
      202: jsonResponse(
        QueuedWriteSchema,
        "Accepted while the database is out of reach, within the confirmed balance; applied later, in order",
      ),
      ...errorResponses(404, 409, 503),
    },
  },
  async (c, principal) => {
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    // Spending a member's points is at least reading them: a partner limited to the members it touched spends only theirs.
    await assertMemberVisible(c.var.ctx, principal, memberId);
    // Capture, void and reverse are the storefront's and an admin's, so a partner's reserve could only lapse.
    if (principal.scope === "partner" && !body.capture)
      throw new AppError("invalid_request", "A partner key redeems at once (capture: true); reserves are for storefront keys", {
        fields: [{ path: "capture", message: "partner keys capture at once" }],
      });
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({ principal, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "redeem", body }),
      (stub, req) => stub.redeem(req, body),
    );
  },
);
