import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getJobRun } from "../../services/jobs/runs";
import { defineRoute } from "../route";
import { JobRunSchema, JobShardSchema } from "./schemas";

export const getJobRoute = defineRoute(
  {
    operationId: "jobs.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/jobs/{runId}",
    tags: ["Jobs"],
    summary: "One nightly job run with its shards",
    description: "Each shard's status (pending, queued, done), failed attempts, rows changed and last error.",
    request: {
      params: z.object({
        runId: z
          .string()
          .min(1)
          .max(64)
          .openapi({ param: { name: "runId", in: "path" }, example: "jrun_01jd..." }),
      }),
    },
    responses: {
      200: jsonResponse(JobRunSchema.extend({ shards: z.array(JobShardSchema) }), "The run"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    return c.json(await getJobRun({ ctx: c.var.ctx, input: { programId, runId: c.req.valid("param").runId } }), 200);
  },
);
