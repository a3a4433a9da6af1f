import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listBudgets } from "../../services/budgets";
import { BudgetSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/budgets",
  tags: ["Budgets"],
  summary: "All period budgets",
  description: "Scope: admin. Oldest period first.",
  security: bearerSecurity,
  responses: { 200: jsonResponse(z.object({ data: z.array(BudgetSchema) }), "Budgets"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json({ data: await listBudgets({ ctx: c.var.ctx, input: { programId } }) }, 200);
  });
