import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ReferralSettingsSchema, setReferralProgram } from "../../services/referrals/referrals";
import { defineRoute } from "../route";

export const setReferralProgramRoute = defineRoute(
  {
    operationId: "referralProgram.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/referral-program",
    tags: ["Referrals"],
    summary: "Set the program's referral settings",
    description:
      "Audited. When a referred member's first purchase of at least minOrderAmount lands, they earn refereePoints in that purchase's ledger write and the referrer earns referrerPoints within a minute (settle cron). maxPerMonth caps referrals per referrer per calendar month in the program's time zone. Points are fixed per referral when it qualifies.",
    request: { body: jsonBody(ReferralSettingsSchema) },
    responses: { 200: jsonResponse(ReferralSettingsSchema, "Referral settings"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await setReferralProgram({ ctx: c.var.ctx, input: { programId, settings: c.req.valid("json") } }), 200);
  },
);
