import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getBudget } from "../../services/budgets";
import { BudgetSchema, PeriodParam } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/budgets/{period}",
  tags: ["Budgets"],
  summary: "A month's budget, campaign spend and program cost",
  description: "Scope: admin.",
  security: bearerSecurity,
  request: { params: PeriodParam },
  responses: { 200: jsonResponse(BudgetSchema, "The budget"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await getBudget({ ctx: c.var.ctx, input: { programId, period: c.req.valid("param").period } }), 200);
  });
