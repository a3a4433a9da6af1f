import { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../route";

export const healthRoute = defineRoute(
  {
    operationId: "system.health",
    principals: "public",
    method: "get",
    path: "/health",
    tags: ["System"],
    summary: "Liveness and database reachability",
    responses: { 200: jsonResponse(z.object({ ok: z.boolean(), database: z.boolean() }), "Healthy") },
  },
  async (c) => {
    await c.var.ctx.db.run(sql`select 1`);
    return c.json({ ok: true, database: true }, 200);
  },
);
