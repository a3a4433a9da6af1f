import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getRedemption } from "../../services/ledger/redemptions";
import { defineRoute } from "../route";
import { RedemptionIdParam, RedemptionViewSchema } from "./schemas";

export const getRedemptionRoute = defineRoute(
  {
    operationId: "redemptions.get",
    principals: { scopes: ["storefront", "admin"] },
    method: "get",
    path: "/v1/redemptions/{redemptionId}",
    tags: ["Points"],
    summary: "A redemption: reserved, captured, voided or expired, and how much was captured and reversed",
    request: { params: RedemptionIdParam },
    responses: { 200: jsonResponse(RedemptionViewSchema, "The redemption"), ...errorResponses(404) },
  },
  async (c, { programId }) =>
    c.json(await getRedemption({ ctx: c.var.ctx, input: { programId, redemptionId: c.req.valid("param").redemptionId } }), 200),
);
