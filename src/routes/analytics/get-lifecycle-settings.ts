import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getLifecycleSettings } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { LifecycleSettingsSchema } from "./schemas";

export const getLifecycleSettingsRoute = defineRoute(
  {
    operationId: "lifecycleSettings.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/lifecycle-settings",
    tags: ["Analytics"],
    summary: "The program's lifecycle stage thresholds",
    description: "Defaults apply until set.",
    responses: { 200: jsonResponse(LifecycleSettingsSchema, "Effective thresholds"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await getLifecycleSettings({ ctx: c.var.ctx, input: { programId } }), 200);
  },
);
