import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listExperiments } from "../../services/experiments/experiments";
import { defineRoute } from "../route";
import { ExperimentSchema } from "./schemas";

export const listExperimentsRoute = defineRoute(
  {
    operationId: "experiments.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/experiments",
    tags: ["Experiments"],
    summary: "List A/B experiments",
    description: "An experiment is created with its campaign (campaign.experiment).",
    responses: { 200: jsonResponse(z.object({ data: z.array(ExperimentSchema) }), "The program's experiments"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json({ data: await listExperiments({ ctx: c.var.ctx, input: { programId } }) } as never, 200);
  },
);
