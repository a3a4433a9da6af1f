import { errorResponses, jsonResponse } from "../../lib/openapi";
import { exportProgramConfig, ProgramConfigSchema } from "../../services/program/config";
import { defineRoute } from "../route";

export const getProgramConfigRoute = defineRoute(
  {
    operationId: "program.config.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/program/config",
    tags: ["Programs"],
    summary: "The program's whole configuration as one document",
    description:
      "Settings, tiers, earning rules, rewards, referral program, segments, campaigns with their experiments, lifecycle thresholds, budgets and channel endpoints (without their signing secrets), keyed by names rather than ids: references between objects (a reward's tiers, a campaign's segment, rewards and tiers, a segment rule's `tierId`, an earning rule's tier and segment conditions) hold names. `version` is the document format; `configVersion` the program's configuration version. Apply it to this or another program with PUT /v1/program/config.",
    responses: { 200: jsonResponse(ProgramConfigSchema, "The configuration document"), ...errorResponses() },
  },
  async (c, { programId }) => c.json(await exportProgramConfig({ ctx: c.var.ctx, input: { programId } }), 200),
);
