import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getExperimentResults } from "../../services/experiments/experiments";
import { defineRoute } from "../route";
import { ExperimentIdParam, ResultsSchema } from "./schemas";

export const getExperimentResultsRoute = defineRoute(
  {
    operationId: "experiments.results.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/experiments/{experimentId}/results",
    tags: ["Experiments"],
    summary: "Experiment results: lift, confidence interval, significance, sample size, stop rule",
    description:
      "Per group (variants and the holdout): exposures, conversions within the conversion window after exposure (purchase, redemption or a custom activity), rate, revenue per exposed member. Against the control (the holdout unless controlKey names a variant): lift in rate (two-proportion z-test, 95 % CI, p-value) and in revenue per member (Welch's t from SQL sums). Sample size per group for the minimum detectable effect and how many more each group needs; the stop rule (significant with enough sample, or max duration); the winner the data supports (Bonferroni α/k with k variants).",
    request: { params: ExperimentIdParam },
    responses: { 200: jsonResponse(ResultsSchema, "Results"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(
      (await getExperimentResults({ ctx: c.var.ctx, input: { programId, experimentId: c.req.valid("param").experimentId } })) as never,
      200,
    );
  },
);
