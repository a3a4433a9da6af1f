import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { rotateMemberTokenKey } from "../../services/members/tokens";
import { defineRoute } from "../route";

export const rotateMemberTokenKeyRoute = defineRoute(
  {
    operationId: "memberTokens.signingKey.rotate",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/member-tokens/signing-key/rotate",
    tags: ["Members"],
    summary: "Rotate the program's member token signing key (no downtime)",
    description:
      "New tokens are signed with a new key (a new kid); tokens signed with the previous key still verify until they expire, so no browser is signed out. The key before the previous one stops verifying. Audited.",
    responses: {
      200: jsonResponse(z.object({ keyId: z.string(), previousKeyId: z.string().nullable() }).openapi("MemberTokenKeyRotation"), "Rotated"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => c.json(await rotateMemberTokenKey({ ctx: c.var.ctx, input: { programId } }), 200),
);
