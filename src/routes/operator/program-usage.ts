import { z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { tenantUsage } from "../../services/tenants/programs";
import { defineRoute } from "../route";
import { ProgramIdParam, UsageSchema } from "./schemas";

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC date, YYYY-MM-DD");
const MAX_DAYS = 400;

export const tenantUsageRoute = defineRoute(
  {
    operationId: "operator.programs.usage",
    principals: { operator: true },
    method: "get",
    path: "/v1/operator/programs/{programId}/usage",
    tags: ["Operator"],
    summary: "A program's usage per day, for billing: requests, writes, rows written, members",
    description:
      "Per UTC day: requests answered with one of the program's credentials (keys, staff, member tokens), writes among them (non-GET answered 2xx) and rows written to the database on its behalf (by the Worker and by its members' ledgers). Counted in memory per isolate and flushed in the background every few seconds, so the last seconds may still be on their way. `members`: the program's members now. Default: the last 30 days.",
    request: {
      params: ProgramIdParam,
      query: z.object({
        from: Day.optional().openapi({ description: "First UTC day (default 29 days before `to`)", example: "2026-11-01" }),
        to: Day.optional().openapi({ description: "Last UTC day (default today)", example: "2026-11-30" }),
      }),
    },
    responses: { 200: jsonResponse(UsageSchema, "The program's usage"), ...errorResponses(404) },
  },
  async (c) => {
    const { programId } = c.req.valid("param");
    const query = c.req.valid("query");
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
    if (!(span >= 0 && span < MAX_DAYS))
      throw new AppError("invalid_request", `from must be on or before to, at most ${MAX_DAYS} days apart`, {
        fields: [{ path: "from", message: "after to or too far back" }],
      });
    return c.json(await tenantUsage(c.var.ctx, { programId, from, to }), 200);
  },
);
