import { z } from "@hono/zod-openapi";
import { localMonth } from "../../domain/local-time";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { customerAcquisitionCost } from "../../services/budgets/budgets";
import { timeZoneOf } from "../../services/program/local-day";
import { defineRoute } from "../route";
import { Period } from "./schemas";

const CacSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string().nullable(),
    channels: z.array(
      z.object({ channel: z.string(), spendMinor: z.number().int(), newMembers: z.number().int(), cacMinor: z.number().nullable() }),
    ),
    total: z.object({ spendMinor: z.number().int(), newMembers: z.number().int(), blendedCacMinor: z.number().nullable() }),
  })
  .openapi("Cac");

export const getAcquisitionCostRoute = defineRoute(
  {
    operationId: "analytics.cac.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/cac",
    tags: ["Budgets"],
    summary: "Customer acquisition cost per channel",
    description:
      "For the months from..to of the program's calendar (inclusive, default: the current month in the program's time zone): acquisition spend per channel ÷ members who joined through it (members.acquisitionChannel). Members without a channel are reported as unattributed (no CAC).",
    request: { query: z.object({ from: Period.optional(), to: Period.optional() }) },
    responses: { 200: jsonResponse(CacSchema, "CAC per channel"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const q = c.req.valid("query");
    const month = localMonth(new Date(), await timeZoneOf(c.var.ctx.db, programId));
    const from = q.from ?? q.to ?? month;
    // biome-ignore lint/complexity/useMathMinMax: "YYYY-MM" strings compare as text; Math.max would coerce them to NaN
    const to = q.to ?? (from > month ? from : month);
    if (from > to) throw new AppError("invalid_request", "from must not be after to");
    return c.json(await customerAcquisitionCost({ ctx: c.var.ctx, input: { programId, from, to } }), 200);
  },
);
