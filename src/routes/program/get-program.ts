import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getProgramSettings, ProgramSettingsSchema } from "../../services/program/settings";
import { defineRoute } from "../route";

export const getProgramRoute = defineRoute(
  {
    operationId: "program.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/program",
    tags: ["Programs"],
    summary: "The program's settings",
    description:
      "Name, currency, earn rate, hold and expiry, point cost, negative-balance policy, time zone, allowed browser origins, default locale, and `configVersion`, which every configuration change bumps.",
    responses: { 200: jsonResponse(ProgramSettingsSchema, "Program settings"), ...errorResponses() },
  },
  async (c, { programId }) => c.json(await getProgramSettings({ ctx: c.var.ctx, input: { programId } }), 200),
);
