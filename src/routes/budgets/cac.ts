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
      z.object({
        channel: z.string(),
        spendMinor: z.number().int(),
        newMembers: z.number().int(),
        cacMinor: z.number().nullable(),
        scoredMembers: z.number().int().openapi({ description: "Members of the cohort with a 12-month CLV from the nightly scores" }),
        ltvMinor: z
          .number()
          .nullable()
          .openapi({ description: "Mean 12-month CLV of the cohort's scored members (null: none scored yet)" }),
        spendToDateMinor: z.number().int().openapi({ description: "What the cohort has spent so far (net of refunds)" }),
        ltvToCac: z.number().nullable().openapi({ description: "ltvMinor ÷ cacMinor (null without either)" }),
      }),
    ),
    total: z.object({
      spendMinor: z.number().int(),
      newMembers: z.number().int(),
      blendedCacMinor: z.number().nullable(),
      scoredMembers: z.number().int(),
      ltvMinor: z.number().nullable(),
      ltvToCac: z.number().nullable(),
    }),
  })
  .openapi("Cac");

export const getAcquisitionCostRoute = defineRoute(
  {
    operationId: "analytics.cac.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/cac",
    tags: ["Budgets"],
    summary: "Customer acquisition cost and LTV:CAC per channel",
    description:
      "For the months from..to of the program's calendar (inclusive, default: the current month in the program's time zone): acquisition spend per channel (recorded with PUT /v1/acquisition-spend/{channel}/{period}) ÷ members who joined through it (members.acquisitionChannel) is the CAC; the LTV is the mean 12-month CLV of those members the nightly scores have valued, and LTV:CAC their ratio. Members without a channel are reported as unattributed (no CAC).",
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
