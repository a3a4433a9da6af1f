import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getLifecycleSettings } from "../../services/analytics";
import { LifecycleSettingsSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/lifecycle-settings",
  tags: ["Analytics"],
  summary: "The program's lifecycle stage thresholds",
  description: "Scopes: admin. Defaults apply until set.",
  security: bearerSecurity,
  responses: { 200: jsonResponse(LifecycleSettingsSchema, "Effective thresholds"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await getLifecycleSettings({ ctx: c.var.ctx, input: { programId } }), 200);
  });
