import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { kpiSeries } from "../../services/kpis/kpis";
import { defineRoute } from "../route";
import { KpiFiguresSchema } from "./schemas";

const Day = z.iso.date("use YYYY-MM-DD");

export const listKpiSnapshotsRoute = defineRoute(
  {
    operationId: "kpis.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/kpis",
    tags: ["KPIs"],
    summary: "KPI time series from the daily snapshots",
    description:
      "One snapshot per day, taken for each program's local day (its time zone) once that day has ended; `startsAt`/`endsAt` are the day's UTC bounds (23 or 25 hours on a DST change) and `timeZone` the zone it was taken in, kept if the program's zone changes later. from..to inclusive, local dates (default: the last 30 days, at most two years). Members total/new/active, retention and repurchase rate, ARPU, AOV, conversion, redemption rate, breakage, points liability in money, tier and stage distribution, churn rate, average CLV, NPS.",
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
              startsAt: z.string().nullable(),
              endsAt: z.string().nullable(),
              figures: KpiFiguresSchema,
              createdAt: z.string(),
            }),
          ),
        }),
        "Daily snapshots, oldest first",
      ),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json((await kpiSeries({ ctx: c.var.ctx, input: { programId, ...c.req.valid("query") } })) as never, 200);
  },
);
