import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { getTenant, listTenants } from "../../services/tenants/programs";
import { defineRoute } from "../route";
import { ProgramIdParam, TenantSchema } from "./schemas";

export const listTenantsRoute = defineRoute(
  {
    operationId: "operator.programs.list",
    principals: { operator: true },
    method: "get",
    path: "/v1/operator/programs",
    tags: ["Operator"],
    summary: "List programs, newest first",
    request: { query: PaginationQuery },
    responses: {
      200: jsonResponse(z.object({ data: z.array(TenantSchema), nextCursor: z.string().nullable() }), "A page of programs"),
      ...errorResponses(),
    },
  },
  async (c) => c.json(await listTenants({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
);

export const getTenantRoute = defineRoute(
  {
    operationId: "operator.programs.get",
    principals: { operator: true },
    method: "get",
    path: "/v1/operator/programs/{programId}",
    tags: ["Operator"],
    summary: "One program: status and suspension",
    request: { params: ProgramIdParam },
    responses: { 200: jsonResponse(TenantSchema, "The program"), ...errorResponses(404) },
  },
  async (c) => c.json(await getTenant({ ctx: c.var.ctx, input: c.req.valid("param") }), 200),
);
