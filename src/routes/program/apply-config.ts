import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { applyProgramConfig, ConfigPlanSchema, ProgramConfigSchema } from "../../services/program/config";
import { defineRoute } from "../route";

export const applyProgramConfigRoute = defineRoute(
  {
    operationId: "program.config.apply",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/program/config",
    tags: ["Programs"],
    summary: "Make the program's configuration match a document",
    description:
      "Validates the whole document first (400 naming the first bad field), then plans a create, update or delete per object, matched by name (budgets by period, channels by channel), never by id. With `dryRun=true` returns the plan and writes nothing; otherwise applies every change in one batch, audited per change, bumping `configVersion` once. Applying the same document twice changes nothing the second time. An object missing from the document is deleted; deleting a tier with members, a reward with issued coupons or a campaign that has fired is refused (409), as on their own routes. A new channel endpoint gets a fresh signing secret (read it with GET /v1/channels).",
    request: {
      query: z.object({
        dryRun: z.enum(["true", "false"]).optional().openapi({ description: "true: return the plan without writing" }),
      }),
      body: jsonBody(ProgramConfigSchema),
    },
    responses: { 200: jsonResponse(ConfigPlanSchema, "The plan, applied unless dryRun"), ...errorResponses(409) },
  },
  async (c, { programId }) =>
    c.json(
      await applyProgramConfig({
        ctx: c.var.ctx,
        input: { programId, document: c.req.valid("json"), dryRun: c.req.valid("query").dryRun === "true" },
      }),
      200,
    ),
);
