import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { putAcquisitionSpend } from "../../services/budgets/budgets";
import { defineRoute } from "../route";
import { Money, Period } from "./schemas";

const Params = z.object({
  channel: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "channel is 1–64 of letters, digits, _ . -")
    .openapi({ param: { name: "channel", in: "path" }, example: "paid_social" }),
  period: Period.openapi({ param: { name: "period", in: "path" } }),
});
const Body = z
  .object({ amountMinor: Money })
  .strict()
  .openapi("PutAcquisitionSpend", { example: { amountMinor: 1_200_000 } });
const SpendSchema = z.object({ channel: z.string(), period: z.string(), amountMinor: z.number().int() }).openapi("AcquisitionSpend");

export const setAcquisitionSpendRoute = defineRoute(
  {
    operationId: "acquisitionSpend.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/acquisition-spend/{channel}/{period}",
    tags: ["Budgets"],
    summary: "Record what a month's member acquisition cost on a channel",
    description: "The channel matches members' acquisitionChannel (set at registration); feeds GET /v1/analytics/cac. Audited.",
    request: { params: Params, body: jsonBody(Body) },
    responses: { 201: jsonResponse(SpendSchema, "Recorded"), 200: jsonResponse(SpendSchema, "Updated"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const { channel, period } = c.req.valid("param");
    const result = await putAcquisitionSpend({
      ctx: c.var.ctx,
      input: { programId, channel, period, amountMinor: c.req.valid("json").amountMinor },
    });
    const { created, ...spend } = result;
    return c.json(spend, created ? 201 : 200);
  },
);
