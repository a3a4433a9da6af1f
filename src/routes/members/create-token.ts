import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, MEMBER_SCOPES, mintMemberToken } from "../../services/members/tokens";
import { defineRoute } from "../route";

const MemberTokenRequest = z
  .object({
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(MAX_TOKEN_TTL_SECONDS)
      .optional()
      .openapi({ description: "Default 900 (15 min), at most 86400 (24 h)" }),
    scopes: z
      .array(z.enum(MEMBER_SCOPES))
      .min(1)
      .max(2)
      .optional()
      .openapi({ description: "Default [read]; add redeem to let the browser redeem rewards" }),
  })
  .strict()
  .openapi("MemberTokenRequest");

const MemberTokenSchema = z
  .object({
    token: z.string().openapi({ description: "A JWT for Authorization: Bearer, bound to this member and program" }),
    tokenType: z.literal("Bearer"),
    memberId: z.string(),
    scopes: z.array(z.enum(MEMBER_SCOPES)),
    expiresAt: z.string(),
  })
  .openapi("MemberToken");

export const createMemberTokenRoute = defineRoute(
  {
    operationId: "members.tokens.create",
    principals: { scopes: ["storefront", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/tokens",
    tags: ["Members"],
    summary: "Mint a short-lived member token for a browser (the widget)",
    description: `Call from the shop's server, never the browser; the embeddable widget (GET /widget.js, a <loyalty-panel> web component) fetches it from the shop's own endpoint. The token lets a browser call only this member's routes (those marked Member token) until it expires (default ${DEFAULT_TOKEN_TTL_SECONDS / 60} min, at most 24 h) or the member is blocked or erased. Signed with the program's key (rotate with POST /v1/member-tokens/signing-key/rotate; tokens signed with the previous key stay valid). 403 for a blocked member.`,
    request: {
      params: MemberIdParam,
      body: { ...jsonBody(MemberTokenRequest, { ttlSeconds: 900, scopes: ["read", "redeem"] }), required: false },
    },
    responses: { 201: jsonResponse(MemberTokenSchema, "The token"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const body = c.req.valid("json") ?? {};
    const token = await mintMemberToken({ ctx: c.var.ctx, input: { programId, memberId: c.req.valid("param").memberId, ...body } });
    c.header("cache-control", "no-store");
    return c.json(token, 201);
  },
);
