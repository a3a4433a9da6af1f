import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getBudget } from "../../services/budgets/budgets";
import { defineRoute } from "../route";
import { BudgetSchema, PeriodParam } from "./schemas";

export const getBudgetRoute = defineRoute(
  {
    operationId: "budgets.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/budgets/{period}",
    tags: ["Budgets"],
    summary: "A month's budget, campaign spend and program cost",
    request: { params: PeriodParam },
    responses: { 200: jsonResponse(BudgetSchema, "The budget"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(await getBudget({ ctx: c.var.ctx, input: { programId, period: c.req.valid("param").period } }), 200);
  },
);
