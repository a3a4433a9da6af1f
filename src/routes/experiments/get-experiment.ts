import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getExperiment } from "../../services/experiments/experiments";
import { defineRoute } from "../route";
import { ExperimentIdParam, ExperimentSchema } from "./schemas";

export const getExperimentRoute = defineRoute(
  {
    operationId: "experiments.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/experiments/{experimentId}",
    tags: ["Experiments"],
    summary: "Get an experiment",
    request: { params: ExperimentIdParam },
    responses: { 200: jsonResponse(ExperimentSchema, "The experiment"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(
      (await getExperiment({ ctx: c.var.ctx, input: { programId, experimentId: c.req.valid("param").experimentId } })) as never,
      200,
    );
  },
);
