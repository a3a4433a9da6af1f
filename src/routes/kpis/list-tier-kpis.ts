import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { tierKpiSeries } from "../../services/kpis/kpis";
import { defineRoute } from "../route";

const Day = z.iso.date("use YYYY-MM-DD");
const Rate = z.number().nullable();

const TierKpiFiguresSchema = z
  .object({
    members: z.number().int(),
    retentionRate30d: Rate,
    repurchaseRate: Rate,
    aov30d: Rate,
    spendPerMember30d: Rate,
    revenue30d: z.number().int(),
    orders30d: z.number().int(),
    points: z.object({ earned30d: z.number().int(), redeemed30d: z.number().int() }),
    upgrades: z.object({ in: z.number().int(), out: z.number().int() }),
    downgrades: z.object({ in: z.number().int(), out: z.number().int() }),
  })
  .openapi("TierKpiFigures");

export const listTierKpisRoute = defineRoute(
  {
    operationId: "kpis.tiers.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/kpis/tiers",
    tags: ["KPIs"],
    summary: "Per-tier KPI time series from the daily snapshots",
    description:
      "Taken with each program's daily snapshot (its local day, in the zone that day was taken in), per tier in rank order: members on the tier, 30-day retention, repurchase rate, AOV and spend per member over 30 days, points earned and redeemed over 30 days, and the day's upgrades and downgrades into and out of the tier. Figures are over the members on each tier when the day was snapshotted. from..to inclusive, local dates (default: the last 30 days, at most two years). Rates are null without a denominator.",
    request: {
      query: z.object({ from: Day.optional().openapi({ example: "2026-11-01" }), to: Day.optional().openapi({ example: "2026-11-30" }) }),
    },
    responses: {
      200: jsonResponse(
        z.object({
          from: z.string(),
          to: z.string(),
          data: z.array(
            z.object({
              day: z.string(),
              timeZone: z.string(),
              tiers: z.array(z.object({ tierId: z.string(), tierName: z.string(), figures: TierKpiFiguresSchema })),
            }),
          ),
        }),
        "Daily per-tier figures, oldest day first",
      ),
      ...errorResponses(400),
    },
  },
  async (c, { programId }) => {
    return c.json((await tierKpiSeries({ ctx: c.var.ctx, input: { programId, ...c.req.valid("query") } })) as never, 200);
  },
);
