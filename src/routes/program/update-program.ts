import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ProgramSettingsPatchSchema, ProgramSettingsSchema, updateProgramSettings } from "../../services/program/settings";
import { defineRoute } from "../route";

export const updateProgramRoute = defineRoute(
  {
    operationId: "program.update",
    principals: { scopes: ["admin"] },
    method: "patch",
    path: "/v1/program",
    tags: ["Programs"],
    summary: "Change the program's settings",
    description:
      "Send only the fields to change. Audited (`program.updated`, with the changed fields before and after) and bumps `configVersion`. Takes effect for later writes only: ledger entries, lots and KPI days already written keep the settings they were made with (a lot's expiry date, a past day's zone). The currency is fixed once the program has a member (409 currency_locked). `timeZone` must be an IANA name (e.g. Asia/Taipei). `expiryPolicy`: `afterEarning` days, `endOfPeriod` (end of the Nth local month, quarter or year after earning, expired at that instant in shards on the jobs queue), `inactivity` (all points N days after the last purchase, one date per member that purchases move) or `never`.",
    request: { body: jsonBody(ProgramSettingsPatchSchema) },
    responses: { 200: jsonResponse(ProgramSettingsSchema, "Program settings after the change"), ...errorResponses(409) },
  },
  async (c, { programId }) =>
    c.json(await updateProgramSettings({ ctx: c.var.ctx, input: { programId, patch: c.req.valid("json") } }), 200),
);
