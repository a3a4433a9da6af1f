import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { putLifecycleSettings } from "../../services/analytics";
import { LifecycleSettingsBody, LifecycleSettingsSchema } from "./schemas";

export const route = createRoute({
  method: "put",
  path: "/v1/lifecycle-settings",
  tags: ["Analytics"],
  summary: "Set the program's lifecycle stage thresholds",
  description:
    "Scopes: admin. Replaces the thresholds; omitted fields take their defaults. Must keep newDays ≤ dormantAfterDays < atRiskAfterDays < churnedAfterDays and churnProbabilityAtRisk ≤ churnProbabilityChurned. Stages move at the next analytics run.",
  security: bearerSecurity,
  request: { body: jsonBody(LifecycleSettingsBody) },
  responses: { 200: jsonResponse(LifecycleSettingsSchema, "Effective thresholds"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await putLifecycleSettings({ ctx: c.var.ctx, input: { programId, thresholds: c.req.valid("json") } }), 200);
  });
