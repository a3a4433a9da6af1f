import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { modelFitsOf } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { ModelsResponse } from "./schemas";

export const getModelFitRoute = defineRoute(
  {
    operationId: "analytics.models.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/models",
    tags: ["Analytics"],
    summary: "The program's current BG/NBD + Gamma-Gamma fit and recent history",
    description:
      "Parameters are in days (α) and minor units (γ); diagnostics give n, log-likelihood, iterations, convergence and duration.",
    request: { query: z.object({ history: z.coerce.number().int().min(0).max(50).default(5) }) },
    responses: {
      200: jsonResponse(ModelsResponse, "Current fit (null before the first) and earlier fits, newest first"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json(await modelFitsOf({ ctx: c.var.ctx, input: { programId, history: c.req.valid("query").history } }), 200);
  },
);
