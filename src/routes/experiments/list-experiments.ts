import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listExperiments } from "../../services/experiments";
import { ExperimentSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/experiments",
  tags: ["Experiments"],
  summary: "List A/B experiments",
  description: "Scope: admin. An experiment is created with its campaign (campaign.experiment).",
  security: bearerSecurity,
  responses: { 200: jsonResponse(z.object({ data: z.array(ExperimentSchema) }), "The program's experiments"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json({ data: await listExperiments({ ctx: c.var.ctx, input: { programId } }) } as never, 200);
  });
