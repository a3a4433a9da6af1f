import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { putBudget } from "../../services/budgets/budgets";
import { defineRoute } from "../route";
import { BudgetSchema, Money, PeriodParam } from "./schemas";

const PutBudgetBody = z
  .object({ amountMinor: Money })
  .strict()
  .openapi("PutBudget", { example: { amountMinor: 5_000_000 } });

export const setBudgetRoute = defineRoute(
  {
    operationId: "budgets.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/budgets/{period}",
    tags: ["Budgets"],
    summary: "Set a month's marketing budget",
    description:
      "The budget caps what campaigns may award in that month (points at the program's cost per point, rewards at their cost): awards that would pass it are refused with budget_exhausted, enforced in the database under concurrency. The response also reports the program's whole cost in the month. Audited.",
    request: { params: PeriodParam, body: jsonBody(PutBudgetBody) },
    responses: {
      201: jsonResponse(BudgetSchema, "Budget created"),
      200: jsonResponse(BudgetSchema, "Budget updated"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    const result = await putBudget({
      ctx: c.var.ctx,
      input: { programId, period: c.req.valid("param").period, amountMinor: c.req.valid("json").amountMinor },
    });
    return c.json(result.budget, result.created ? 201 : 200);
  },
);
