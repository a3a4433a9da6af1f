import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { createTenant } from "../../services/tenants/programs";
import { defineRoute } from "../route";
import { CreatedTenantSchema, CreateTenantBody } from "./schemas";

export const createTenantRoute = defineRoute(
  {
    operationId: "operator.programs.create",
    principals: { operator: true },
    method: "post",
    path: "/v1/operator/programs",
    tags: ["Operator"],
    summary: "Create a program (tenant) and its first admin key",
    description:
      "The admin key and the partner signing secret are in this response only (only hashes and sealed copies are stored). The admin mints storefront and partner keys with POST /v1/keys.",
    request: { body: jsonBody(CreateTenantBody) },
    responses: { 201: jsonResponse(CreatedTenantSchema, "The program, its admin key and partner signing secret"), ...errorResponses() },
  },
  async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await createTenant({ ctx: c.var.ctx, input: c.req.valid("json") }), 201);
  },
);
