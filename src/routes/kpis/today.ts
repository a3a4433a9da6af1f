import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { kpisToday } from "../../services/kpis";
import { KpiFiguresSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/kpis/today",
  tags: ["KPIs"],
  summary: "KPIs computed live, as of now",
  description: "Scope: admin. The same figures as a snapshot, computed now (members.new = the last 24 hours).",
  security: bearerSecurity,
  responses: {
    200: jsonResponse(z.object({ day: z.string(), asOf: z.string(), figures: KpiFiguresSchema }), "Live figures"),
    ...errorResponses(),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json((await kpisToday({ ctx: c.var.ctx, input: { programId } })) as never, 200);
  });
