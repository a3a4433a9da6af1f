import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listJobRuns } from "../../services/jobs/runs";
import { defineRoute } from "../route";
import { JobRunSchema } from "./schemas";

export const listJobsRoute = defineRoute(
  {
    operationId: "jobs.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/jobs",
    tags: ["Jobs"],
    summary: "The program's nightly job runs",
    description:
      "Runs of the fanned-out nightly jobs (tier requalification, fit, scores, RFM, lifecycle, segments), newest first: shards done of total, rows changed, start and finish, the last error.",
    request: {
      query: z.object({
        job: z.string().max(64).optional().openapi({ example: "analytics.scores" }),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(64).optional().openapi({ description: "nextCursor of the previous page" }),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ data: z.array(JobRunSchema), nextCursor: z.string().nullable() }), "Runs, newest first"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    const { job, limit, cursor } = c.req.valid("query");
    return c.json(await listJobRuns({ ctx: c.var.ctx, input: { programId, job, limit, before: cursor } }), 200);
  },
);
