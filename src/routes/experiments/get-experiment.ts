import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getExperiment } from "../../services/experiments";
import { ExperimentIdParam, ExperimentSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/experiments/{experimentId}",
  tags: ["Experiments"],
  summary: "Get an experiment",
  description: "Scope: admin.",
  security: bearerSecurity,
  request: { params: ExperimentIdParam },
  responses: { 200: jsonResponse(ExperimentSchema, "The experiment"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(
      (await getExperiment({ ctx: c.var.ctx, input: { programId, experimentId: c.req.valid("param").experimentId } })) as never,
      200,
    );
  });
