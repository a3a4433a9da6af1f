import { errorResponses, IdempotencyHeaders, jsonResponse } from "../../lib/openapi";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { defineRoute } from "../route";
import { MemberRewardParams, RedemptionResultSchema } from "./schemas";

export const redeemRewardRoute = defineRoute(
  {
    operationId: "members.rewards.redeem",
    principals: { scopes: ["storefront", "admin"], member: "redeem" },
    method: "post",
    path: "/v1/members/{memberId}/rewards/{rewardId}/redeem",
    tags: ["Rewards"],
    summary: "Redeem a reward for points: debit and issue a unique coupon code",
    description:
      "In the member's ledger, one batch: points debited (first to expire first, ledger sourceType reward), one unit of stock taken, a coupon issued, reward.issued emitted. Never oversells under concurrency. 409 insufficient_points, out_of_stock, limit_reached (per-member limit), coupon_not_valid (reward inactive or outside its window); 403 forbidden (tier restriction). Nothing is written on any error. Retrying with the same Idempotency-Key returns the same coupon.",
    request: { params: MemberRewardParams, headers: IdempotencyHeaders },
    responses: { 201: jsonResponse(RedemptionResultSchema, "Coupon issued"), ...errorResponses(404, 409) },
  },
  async (c, principal) => {
    const { memberId, rewardId } = c.req.valid("param");
    const body = { rewardId };
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({
        principal,
        memberId,
        idempotencyKey: c.req.valid("header")["idempotency-key"],
        operation: "reward.redeem",
        body,
      }),
      (stub, req) => stub.redeemReward(req, body),
    );
  },
);
