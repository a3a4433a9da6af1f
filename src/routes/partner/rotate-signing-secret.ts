import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { rotatePartnerSigningSecret } from "../../services/partner/events";
import { defineRoute } from "../route";

export const rotatePartnerSigningSecretRoute = defineRoute(
  {
    operationId: "partner.signingSecret.rotate",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/partner/signing-secret/rotate",
    tags: ["Partners"],
    summary: "Rotate the program's partner signing secret (24 h overlap)",
    description:
      "Returns the new secret once. Inbound partner events signed with the previous secret are still accepted for 24 hours, so partners can switch without rejected requests. Also creates the secret for programs that have none. Audited (without the secret).",
    responses: {
      200: jsonResponse(
        z
          .object({ secret: z.string().openapi({ description: "Shown once" }), previousSecretValidUntil: z.string().nullable() })
          .openapi("PartnerSigningSecret"),
        "The new secret",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    return c.json(await rotatePartnerSigningSecret({ ctx: c.var.ctx, input: { programId } }), 200);
  },
);
