import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { putLifecycleSettings } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { LifecycleSettingsBody, LifecycleSettingsSchema } from "./schemas";

export const setLifecycleSettingsRoute = defineRoute(
  {
    operationId: "lifecycleSettings.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/lifecycle-settings",
    tags: ["Analytics"],
    summary: "Set the program's lifecycle stage thresholds",
    description:
      "Replaces the thresholds; omitted fields take their defaults. Must keep newDays ≤ dormantAfterDays < atRiskAfterDays < churnedAfterDays and churnProbabilityAtRisk ≤ churnProbabilityChurned. Stages move at the next analytics run.",
    request: { body: jsonBody(LifecycleSettingsBody) },
    responses: { 200: jsonResponse(LifecycleSettingsSchema, "Effective thresholds"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await putLifecycleSettings({ ctx: c.var.ctx, input: { programId, thresholds: c.req.valid("json") } }), 200);
  },
);
