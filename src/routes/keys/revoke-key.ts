import { errorResponses, jsonResponse } from "../../lib/openapi";
import { revokeKey } from "../../services/access/keys";
import { defineRoute } from "../route";
import { KeyIdParam, KeySchema } from "./schemas";

export const revokeApiKeyRoute = defineRoute(
  {
    operationId: "keys.revoke",
    principals: { scopes: ["admin"] },
    method: "delete",
    path: "/v1/keys/{keyId}",
    tags: ["Keys"],
    summary: "Revoke an API key",
    description:
      "The key stops working at once on this edge node and within 30 s everywhere. Revoking an already revoked key returns it unchanged. 409 conflict for the program's last active admin key. Audited.",
    request: { params: KeyIdParam },
    responses: { 200: jsonResponse(KeySchema, "The revoked key"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    return c.json(await revokeKey({ ctx: c.var.ctx, input: { programId, keyId: c.req.valid("param").keyId } }), 200);
  },
);
