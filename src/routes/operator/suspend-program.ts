import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { setSuspended } from "../../services/tenants/programs";
import { defineRoute } from "../route";
import { ProgramIdParam, SuspendBody, TenantSchema } from "./schemas";

export const suspendTenantRoute = defineRoute(
  {
    operationId: "operator.programs.suspend",
    principals: { operator: true },
    method: "post",
    path: "/v1/operator/programs/{programId}/suspend",
    tags: ["Operator"],
    summary: "Suspend a program: its keys and member tokens are refused, its jobs skipped",
    description:
      "Every API key, staff sign-in and member token of the program is then answered 403 program_suspended (at once on the isolate that suspended it, within 30 s everywhere), and its scheduled jobs (nightly runs, local-midnight jobs, KPI snapshots) skip it; its webhook deliveries and campaign messages wait until it is resumed. The ledger's dated sweeps (pending release, expiry) keep running. Nothing is deleted; resume undoes it. Idempotent; audited in the program's log (actor operator).",
    request: { params: ProgramIdParam, body: jsonBody(SuspendBody) },
    responses: { 200: jsonResponse(TenantSchema, "The program, suspended"), ...errorResponses(404) },
  },
  async (c) => {
    const { programId } = c.req.valid("param");
    return c.json(await setSuspended({ ctx: c.var.ctx, input: { programId, reason: c.req.valid("json").reason } }), 200);
  },
);

export const resumeTenantRoute = defineRoute(
  {
    operationId: "operator.programs.resume",
    principals: { operator: true },
    method: "post",
    path: "/v1/operator/programs/{programId}/resume",
    tags: ["Operator"],
    summary: "Resume a suspended program",
    description: "Its keys and member tokens work again; jobs that waited run on their next tick. Idempotent; audited.",
    request: { params: ProgramIdParam },
    responses: { 200: jsonResponse(TenantSchema, "The program, active"), ...errorResponses(404) },
  },
  async (c) => c.json(await setSuspended({ ctx: c.var.ctx, input: { programId: c.req.valid("param").programId, reason: null } }), 200),
);
