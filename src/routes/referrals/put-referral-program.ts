import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { ReferralSettingsSchema, setReferralProgram } from "../../services/referrals";

export const route = createRoute({
  method: "put",
  path: "/v1/referral-program",
  tags: ["Referrals"],
  summary: "Set the program's referral settings",
  description:
    "Scope: admin. Audited. When a referred member's first purchase of at least minOrderAmount lands, they earn refereePoints in that purchase's ledger write and the referrer earns referrerPoints within a minute (settle cron). maxPerMonth caps referrals per referrer per calendar month (UTC). Points are fixed per referral when it qualifies.",
  security: bearerSecurity,
  request: { body: jsonBody(ReferralSettingsSchema) },
  responses: { 200: jsonResponse(ReferralSettingsSchema, "Referral settings"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await setReferralProgram({ ctx: c.var.ctx, input: { programId, settings: c.req.valid("json") } }), 200);
  });
