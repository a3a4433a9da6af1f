import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getReferralProgram, ReferralSettingsSchema } from "../../services/referrals/referrals";
import { defineRoute } from "../route";

export const getReferralProgramRoute = defineRoute(
  {
    operationId: "referralProgram.get",
    principals: { scopes: ["admin", "storefront"] },
    method: "get",
    path: "/v1/referral-program",
    tags: ["Referrals"],
    summary: "The program's referral settings",
    description: 'Storefronts read it to show "invite a friend" terms. Unset: nothing is awarded and there is no cap.',
    responses: { 200: jsonResponse(ReferralSettingsSchema, "Referral settings"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await getReferralProgram({ ctx: c.var.ctx, input: { programId } }), 200);
  },
);
