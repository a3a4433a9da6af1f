import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { putBudget } from "../../services/budgets";
import { BudgetSchema, Money, PeriodParam } from "./schemas";

const PutBudgetBody = z
  .object({ amountMinor: Money })
  .strict()
  .openapi("PutBudget", { example: { amountMinor: 5_000_000 } });

export const route = createRoute({
  method: "put",
  path: "/v1/budgets/{period}",
  tags: ["Budgets"],
  summary: "Set a month's marketing budget",
  description:
    "Scope: admin. The budget caps what campaigns may award in that month (points at the program's cost per point, rewards at their cost): awards that would pass it are refused with budget_exhausted, enforced in the database under concurrency. The response also reports the program's whole cost in the month. Audited.",
  security: bearerSecurity,
  request: { params: PeriodParam, body: jsonBody(PutBudgetBody) },
  responses: { 201: jsonResponse(BudgetSchema, "Budget created"), 200: jsonResponse(BudgetSchema, "Budget updated"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    const result = await putBudget({
      ctx: c.var.ctx,
      input: { programId, period: c.req.valid("param").period, amountMinor: c.req.valid("json").amountMinor },
    });
    return c.json(result.budget, result.created ? 201 : 200);
  });
