import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listBudgets } from "../../services/budgets/budgets";
import { defineRoute } from "../route";
import { BudgetSchema } from "./schemas";

export const listBudgetsRoute = defineRoute(
  {
    operationId: "budgets.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/budgets",
    tags: ["Budgets"],
    summary: "All period budgets",
    description: "Oldest period first.",
    responses: { 200: jsonResponse(z.object({ data: z.array(BudgetSchema) }), "Budgets"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json({ data: await listBudgets({ ctx: c.var.ctx, input: { programId } }) }, 200);
  },
);
