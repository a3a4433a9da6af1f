import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { deepHealth } from "../../services/operations/health";
import { defineRoute } from "../route";

const JobHealth = z.object({
  job: z.string(),
  trigger: z.string().openapi({ description: "The cron expression or queue that runs it" }),
  lastRun: z
    .object({
      startedAt: z.string(),
      durationMs: z.number().int(),
      outcome: z.enum(["ok", "error"]),
      rows: z.number().int(),
      error: z.string().nullable(),
      lastSuccessAt: z.string().nullable(),
    })
    .nullable(),
  stale: z.boolean().openapi({ description: "No run for three of its intervals (queue jobs never: they run when there are messages)" }),
});

const DeepHealth = z
  .object({
    ok: z.boolean().openapi({ description: "Database reachable, migrations up to date and no job failing on its last run" }),
    checkedAt: z.string(),
    database: z.object({ reachable: z.boolean(), latencyMs: z.number().int() }),
    migrations: z.object({
      applied: z.number().int(),
      expected: z.number().int(),
      expectedTag: z.string().nullable(),
      upToDate: z.boolean(),
    }),
    backlog: z.object({
      outbox: z.object({
        undispatched: z.number().int(),
        oldestUndispatchedAt: z.string().nullable(),
        notYetFannedOutToWebhooks: z.number().int(),
      }),
      webhookDeliveries: z.object({ pending: z.number().int(), due: z.number().int(), oldestDueAt: z.string().nullable() }),
      queue: z.object({ webhookDeliveriesClaimed: z.number().int(), queueBound: z.boolean() }),
    }),
    jobs: z.array(JobHealth),
    problems: z.array(z.string()),
  })
  .openapi("DeepHealth");

export const deepHealthRoute = defineRoute(
  {
    operationId: "system.health.deep",
    principals: { operator: true },
    method: "get",
    path: "/v1/health/deep",
    tags: ["System"],
    summary: "Deployment health: database, migrations, backlogs, jobs",
    description:
      "Across every program: libSQL reachability and latency, the schema migration level, the outbox and webhook-delivery backlogs, the last run and outcome of every scheduled and queue job, and the deliveries handed to the queue. 503 service_unavailable (with the database error in details) when the database cannot be reached.",
    responses: {
      200: jsonResponse(DeepHealth, "The deployment's health"),
      ...errorResponses(503),
    },
  },
  async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await deepHealth(c.env, c.var.ctx.db), 200);
  },
);
