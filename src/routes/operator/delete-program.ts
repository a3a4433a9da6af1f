import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { deleteTenant, deletionDryRun } from "../../services/tenants/programs";
import { defineRoute } from "../route";
import { DeletionSchema, ProgramIdParam } from "./schemas";

export const deleteTenantRoute = defineRoute(
  {
    operationId: "operator.programs.delete",
    principals: { operator: true },
    method: "delete",
    path: "/v1/operator/programs/{programId}",
    tags: ["Operator"],
    summary: "Delete a program and all its data (dry run first, then confirm)",
    description:
      "`?dryRun=true` changes nothing and returns the program's rows per table. `?confirm=<programId>` deletes: the program is suspended, then every row it owns goes, in every table of the schema (members, ledger, orders, keys, audit, usage… and the tables keyed only by member or run), the program row last. A deletion cut short leaves the program suspended; calling again finishes it. Without either parameter, or with a confirm naming another program: 400, nothing changed. Irreversible.",
    request: {
      params: ProgramIdParam,
      query: z.object({
        dryRun: z
          .enum(["true", "false"])
          .optional()
          .transform((v) => v === "true")
          .openapi({ description: "Count, do not delete" }),
        confirm: z.string().max(64).optional().openapi({ description: "The program's id again: the confirmation" }),
      }),
    },
    responses: { 200: jsonResponse(DeletionSchema, "What was deleted, or the dry run"), ...errorResponses(404) },
  },
  async (c) => {
    const { programId } = c.req.valid("param");
    const { dryRun, confirm } = c.req.valid("query");
    c.header("cache-control", "no-store");
    if (dryRun) return c.json(await deletionDryRun(c.var.ctx, programId), 200);
    return c.json(await deleteTenant(c.var.ctx, { programId, confirm: confirm ?? "" }), 200);
  },
);
