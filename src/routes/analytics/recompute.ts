import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { recomputeAnalytics } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { RecomputeSummarySchema } from "./schemas";

export const recomputeAnalyticsRoute = defineRoute(
  {
    operationId: "analytics.recompute",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/analytics/recompute",
    tags: ["Analytics"],
    summary: "Run the nightly analytics for this program now",
    description:
      "Fit (skipped below 50 purchasers, keeping the previous fit) → churn/CLV scores → RFM and value segments → lifecycle stages (stage.changed events) → custom segments. Bounded per step; `complete: false` means the nightly cron finishes the rest.",
    request: {
      body: {
        required: false,
        content: {
          "application/json": {
            schema: z
              .object({
                asOf: z.iso.datetime({ offset: true }).optional().openapi({
                  description:
                    "Compute as of this instant (default now), e.g. the end of an imported history's calibration period; later purchases are ignored",
                }),
              })
              .strict()
              .openapi({ example: { asOf: "1997-09-30T12:00:00Z" } }),
          },
        },
      },
    },
    responses: { 200: jsonResponse(RecomputeSummarySchema, "What each step did"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const body = (c.req.valid("json") as { asOf?: string } | undefined) ?? {};
    return c.json(await recomputeAnalytics({ ctx: c.var.ctx, input: { programId, asOf: body.asOf } }), 200);
  },
);
