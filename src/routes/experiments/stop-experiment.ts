import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { stopExperiment } from "../../services/experiments/experiments";
import { defineRoute } from "../route";
import { ExperimentIdParam, ExperimentSchema, ResultsSchema } from "./schemas";

const StopBody = z
  .object({
    winner: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .openapi({ description: "Force the rolled-out group (a variant key or holdout); default: what the results support" }),
  })
  .strict()
  .openapi("StopExperiment", { example: {} });

export const stopExperimentRoute = defineRoute(
  {
    operationId: "experiments.stop",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/experiments/{experimentId}/stop",
    tags: ["Experiments"],
    summary: "Stop an experiment and roll out the winner",
    description:
      "From now on the campaign gives every member the winner's treatment and holds no one out. If the holdout wins, the campaign is paused; with no conclusive winner it continues with its own actions. The nightly cron does the same automatically when the stop rule says so. Audited.",
    request: { params: ExperimentIdParam, body: { required: false, content: { "application/json": { schema: StopBody } } } },
    responses: {
      200: jsonResponse(z.object({ experiment: ExperimentSchema, results: ResultsSchema }), "Stopped"),
      ...errorResponses(404, 409),
    },
  },
  async (c, { programId }) => {
    const body = (c.req.valid("json") ?? {}) as z.infer<typeof StopBody>;
    return c.json(
      (await stopExperiment({
        ctx: c.var.ctx,
        input: { programId, experimentId: c.req.valid("param").experimentId, winner: body.winner },
      })) as never,
      200,
    );
  },
);
