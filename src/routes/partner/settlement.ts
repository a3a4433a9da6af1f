import { z } from "@hono/zod-openapi";
import { errorResponses } from "../../lib/openapi";
import { MAX_SETTLEMENT_MONTHS, serialiseSettlement, settlementReport } from "../../services/partner/settlement";
import { defineRoute } from "../route";

const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month, YYYY-MM");

const SettlementRowSchema = z
  .object({
    period: z.string().openapi({ description: "The month, in the program's time zone (YYYY-MM)" }),
    partner: z.string().openapi({ description: "The partner (a partner key's `partner`, or its id)" }),
    pointsIssued: z.number().int().openapi({ description: "Points earned on the partner's sales this month, net of refunds' reversals" }),
    pointsRedeemed: z.number().int().openapi({ description: "Points redeemed at the partner this month, net of voids and reversals" }),
    netPoints: z.number().int().openapi({ description: "pointsIssued − pointsRedeemed" }),
    issuedValueMinor: z.number().int().openapi({ description: "pointsIssued at the program's point cost, in minor units" }),
    redeemedValueMinor: z.number().int().openapi({ description: "pointsRedeemed at the program's point cost, in minor units" }),
    balanceMinor: z.number().int().openapi({
      description: "issuedValueMinor − redeemedValueMinor: > 0 the partner owes the program, < 0 the program owes the partner",
    }),
    currency: z.string(),
  })
  .openapi("SettlementRow");

const SettlementSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    currency: z.string(),
    pointCostPer1000: z
      .number()
      .int()
      .openapi({ description: "What 1000 points cost the program, in minor units: the rate every value uses" }),
    partner: z.string().nullable().openapi({ description: "The partner reported on; null: every partner" }),
    data: z.array(SettlementRowSchema).openapi({ description: "One row per partner and month with activity, by month then partner" }),
  })
  .openapi("Settlement");

export const settlementRoute = defineRoute(
  {
    operationId: "settlement.get",
    principals: { scopes: ["admin", "partner"] },
    method: "get",
    path: "/v1/settlement",
    tags: ["Settlement"],
    summary: "Per partner and month: points issued on its sales, redeemed at it, and the balance owed",
    description:
      "Months are the program's local calendar months; values are at the program's point cost (`pointCostPer1000`) now. A partner key sees only its own partner (naming another is 403); an admin key every partner, or the one named. `Accept: text/csv` or `application/x-ndjson` for the rows alone as a file (CSV cells guarded against formula injection, like /v1/exports); JSON by default.",
    request: {
      query: z.object({
        from: Month.optional().openapi({
          description: `First month (default 11 months before \`to\`; at most ${MAX_SETTLEMENT_MONTHS} months)`,
          example: "2026-01",
        }),
        to: Month.optional().openapi({ description: "Last month (default the current local month)", example: "2026-12" }),
        partner: z.string().min(1).max(64).optional().openapi({ description: "Only this partner (a partner key: its own only)" }),
      }),
    },
    responses: {
      200: {
        description: "The report: JSON, or its rows as CSV or NDJSON",
        content: {
          "application/json": { schema: SettlementSchema },
          "text/csv": {
            schema: z.string().openapi({
              example:
                "period,partner,pointsIssued,pointsRedeemed,netPoints,issuedValueMinor,redeemedValueMinor,balanceMinor,currency\r\n2026-11,pos-chain,1200,300,900,12000,3000,9000,USD\r\n",
            }),
          },
          "application/x-ndjson": { schema: z.string().openapi({ example: '{"period":"2026-11","partner":"pos-chain",...}\n' }) },
        },
      },
      ...errorResponses(),
    },
  },
  async (c, principal) => {
    const report = await settlementReport(c.var.ctx, principal, c.req.valid("query"));
    const accept = c.req.header("accept") ?? "";
    const format = /\btext\/csv\b/i.test(accept) ? "csv" : /\bapplication\/x-ndjson\b/i.test(accept) ? "ndjson" : "json";
    c.header("cache-control", "no-store");
    if (format === "json") return c.json(report, 200);
    c.header("content-type", format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
    c.header("content-disposition", `attachment; filename="settlement-${report.from}-${report.to}.${format === "csv" ? "csv" : "ndjson"}"`);
    return c.body(serialiseSettlement(report.data, format), 200) as never;
  },
);
