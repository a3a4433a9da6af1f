import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { App } from "../../lib/context";
import { jsonResponse } from "../../lib/openapi";

export const route = createRoute({
  method: "get",
  path: "/health",
  tags: ["System"],
  summary: "Liveness and database reachability",
  responses: { 200: jsonResponse(z.object({ ok: z.boolean(), database: z.boolean() }), "Healthy") },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    await c.var.ctx.db.run(sql`select 1`);
    return c.json({ ok: true, database: true }, 200);
  });
