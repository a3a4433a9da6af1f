import { z } from "@hono/zod-openapi";

export const JobRunSchema = z
  .object({
    id: z.string().openapi({ example: "jrun_01jd..." }),
    job: z.string().openapi({ example: "analytics.scores" }),
    runKey: z.string().openapi({ description: "The night the run belongs to (UTC date).", example: "2026-12-02" }),
    asOf: z.string().openapi({ description: "The instant every shard computes from." }),
    status: z.enum(["planned", "running", "ok", "error"]),
    shardsDone: z.number().int(),
    shardsTotal: z.number().int(),
    rows: z.number().int().openapi({ description: "Rows the finished shards changed." }),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable().openapi({ description: "The last error of a shard attempt (a retried shard may since have succeeded)." }),
  })
  .openapi("JobRun");

export const JobShardSchema = z.object({
  shard: z.number().int(),
  status: z.enum(["pending", "queued", "done"]),
  attempts: z.number().int().openapi({ description: "Failed attempts." }),
  rows: z.number().int(),
  doneAt: z.string().nullable(),
  error: z.string().nullable(),
});
