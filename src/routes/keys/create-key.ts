import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { createKey } from "../../services/access/keys";
import { defineRoute } from "../route";
import { CreatedKeySchema, CreateKeyBody } from "./schemas";

export const createApiKeyRoute = defineRoute(
  {
    operationId: "keys.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/keys",
    tags: ["Keys"],
    summary: "Create an API key (the secret is shown once)",
    description:
      "Creates a key of the given scope in the caller's program. Only its SHA-256 is stored, so the secret in this response cannot be shown again. Audited.",
    request: { body: jsonBody(CreateKeyBody) },
    responses: { 201: jsonResponse(CreatedKeySchema, "The new key, with its secret"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await createKey({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId } }), 201);
  },
);
