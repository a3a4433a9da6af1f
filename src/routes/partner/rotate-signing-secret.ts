import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { rotatePartnerSigningSecret } from "../../services/partner-events";

export const route = createRoute({
  method: "post",
  path: "/v1/partner/signing-secret/rotate",
  tags: ["Partners"],
  summary: "Rotate the program's partner signing secret (24 h overlap)",
  description:
    "Scope: admin. Returns the new secret once. Inbound partner events signed with the previous secret are still accepted for 24 hours, so partners can switch without rejected requests. Also creates the secret for programs that have none. Audited (without the secret).",
  security: bearerSecurity,
  responses: {
    200: jsonResponse(
      z
        .object({ secret: z.string().openapi({ description: "Shown once" }), previousSecretValidUntil: z.string().nullable() })
        .openapi("PartnerSigningSecret"),
      "The new secret",
    ),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await rotatePartnerSigningSecret({ ctx: c.var.ctx, input: { programId } }), 200);
  });
