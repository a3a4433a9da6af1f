import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { rotateWidgetSecret } from "../../services/members/tokens";
import { defineRoute } from "../route";

export const rotateWidgetSecretRoute = defineRoute(
  {
    operationId: "widget.secret.rotate",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/widget/secret/rotate",
    tags: ["Widget"],
    summary: "Create or rotate the widget secret shops sign member assertions with (24 h overlap)",
    description:
      'Returns the secret once. The shop\'s server signs `{ externalId, exp }` (a JWT, HS256, exp at most 24 h ahead, optional `scope`: "read" or "read redeem", default both) with it; the widget sends the assertion as the bearer with X-Program-Id, and it is answered as a member token. Assertions signed with the previous secret are accepted for 24 hours. Audited (without the secret).',
    responses: {
      200: jsonResponse(
        z
          .object({ secret: z.string().openapi({ description: "Shown once" }), previousSecretValidUntil: z.string().nullable() })
          .openapi("WidgetSecret"),
        "The new secret",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => c.json(await rotateWidgetSecret({ ctx: c.var.ctx, input: { programId } }), 200),
);
