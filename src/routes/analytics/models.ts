import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { modelFitsOf } from "../../services/analytics";
import { ModelsResponse } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/models",
  tags: ["Analytics"],
  summary: "The program's current BG/NBD + Gamma-Gamma fit and recent history",
  description:
    "Scopes: admin. Parameters are in days (α) and minor units (γ); diagnostics give n, log-likelihood, iterations, convergence and duration.",
  security: bearerSecurity,
  request: { query: z.object({ history: z.coerce.number().int().min(0).max(50).default(5) }) },
  responses: {
    200: jsonResponse(ModelsResponse, "Current fit (null before the first) and earlier fits, newest first"),
    ...errorResponses(),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await modelFitsOf({ ctx: c.var.ctx, input: { programId, history: c.req.valid("query").history } }), 200);
  });
