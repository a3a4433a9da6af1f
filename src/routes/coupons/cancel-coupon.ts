import { z } from "@hono/zod-openapi";
import { systemKeys } from "../../ledger/system-keys";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { respondWithLedgerWrite, systemWriteRequest } from "../../services/ledger/write";
import { CouponSchema, findCoupon } from "../../services/rewards/coupons";
import { BalanceSchema, EntrySchema } from "../ledger/schemas";
import { defineRoute } from "../route";
import { CouponCodeParam } from "./schemas";

export const cancelCouponRoute = defineRoute(
  {
    operationId: "coupons.cancel",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/coupons/{code}/cancel",
    tags: ["Rewards"],
    summary: "Cancel an unused coupon and return its points",
    description:
      "In the member's ledger, one batch: the coupon is cancelled, its points come back as an available lot (ledger entry adjust, sourceType coupon), the unit goes back into stock. Idempotent per coupon: cancelling again replays the first answer (Idempotent-Replayed: true). 409 coupon_not_valid if it was used or has expired.",
    request: { params: CouponCodeParam },
    responses: {
      200: jsonResponse(
        z.object({ coupon: CouponSchema, pointsReturned: z.number().int(), entries: z.array(EntrySchema), balance: BalanceSchema }),
        "Coupon cancelled, points returned",
      ),
      ...errorResponses(404, 409),
    },
  },
  async (c, { programId, scope }) => {
    const { coupon } = await findCoupon(c.var.ctx, programId, c.req.valid("param").code);
    const body = { couponId: coupon.id };
    // The key is the coupon's own, so any retry or second cancel replays the first result.
    return respondWithLedgerWrite(
      c,
      systemWriteRequest({
        programId,
        memberId: coupon.memberId,
        idempotencyKey: systemKeys.coupon(coupon.id),
        operation: "coupon.cancel",
        body,
        actor: scope,
      }),
      (stub, req) => stub.cancelCoupon(req, body),
    );
  },
);
