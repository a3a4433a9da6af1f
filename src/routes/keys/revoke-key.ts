import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { revokeKey } from "../../services/keys";
import { KeyIdParam, KeySchema } from "./schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/keys/{keyId}",
  tags: ["Keys"],
  summary: "Revoke an API key",
  description:
    "Scope: admin. The key stops working at once on this edge node and within 30 s everywhere. Revoking an already revoked key returns it unchanged. 409 conflict for the program's last active admin key. Audited.",
  security: bearerSecurity,
  request: { params: KeyIdParam },
  responses: { 200: jsonResponse(KeySchema, "The revoked key"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await revokeKey({ ctx: c.var.ctx, input: { programId, keyId: c.req.valid("param").keyId } }), 200);
  });
