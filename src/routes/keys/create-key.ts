import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { createKey } from "../../services/keys";
import { CreatedKeySchema, CreateKeyBody } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/keys",
  tags: ["Keys"],
  summary: "Create an API key (the secret is shown once)",
  description:
    "Scope: admin. Creates a key of the given scope in the caller's program. Only its SHA-256 is stored, so the secret in this response cannot be shown again. Audited.",
  security: bearerSecurity,
  request: { body: jsonBody(CreateKeyBody) },
  responses: { 201: jsonResponse(CreatedKeySchema, "The new key, with its secret"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await createKey({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId } }), 201);
  });
