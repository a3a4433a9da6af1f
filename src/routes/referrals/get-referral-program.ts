import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getReferralProgram, ReferralSettingsSchema } from "../../services/referrals";

export const route = createRoute({
  method: "get",
  path: "/v1/referral-program",
  tags: ["Referrals"],
  summary: "The program's referral settings",
  description: 'Scopes: admin, storefront (to show "invite a friend" terms). Unset: nothing is awarded and there is no cap.',
  security: bearerSecurity,
  responses: { 200: jsonResponse(ReferralSettingsSchema, "Referral settings"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin", "storefront"]);
    return c.json(await getReferralProgram({ ctx: c.var.ctx, input: { programId } }), 200);
  });
