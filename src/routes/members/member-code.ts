import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { currentMemberCode } from "../../services/members/member-codes";
import { defineRoute } from "../route";

const MemberCodeSchema = z
  .object({
    code: z
      .string()
      .openapi({ description: "The member number followed by 8 digits; show it as text, a barcode or a QR code", example: "4212345678" }),
    memberNumber: z.number().int().openapi({ example: 42 }),
    periodSeconds: z.number().int().openapi({ example: 30 }),
    refreshAt: z.string().openapi({ description: "When to fetch and show the next code (the POS accepts this one for one more period)" }),
  })
  .openapi("MemberCode");

export const getMemberCodeRoute = defineRoute(
  {
    operationId: "me.code.get",
    principals: { member: "read" },
    method: "get",
    path: "/v1/me/code",
    tags: ["Members"],
    summary: "The member's rotating code for identifying at the POS",
    description:
      "A short-lived code (like TOTP: an HMAC over the member number and the 30-second step under the program's sealed secret) that the POS sends to `POST /v1/members/identify`. It identifies the member; it does not let anyone spend their points.",
    responses: { 200: jsonResponse(MemberCodeSchema, "The code to show now"), ...errorResponses(404) },
  },
  async (c, { programId, member }) => {
    c.header("cache-control", "private, no-store");
    return c.json(await currentMemberCode({ ctx: c.var.ctx, input: { programId, memberId: member?.memberId as string } }), 200);
  },
);
