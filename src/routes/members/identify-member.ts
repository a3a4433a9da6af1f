import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { identifyMember } from "../../services/members/identify";
import { MemberSchema } from "../../services/members/view";
import { defineRoute } from "../route";

const IdentifyBody = z
  .union([
    z
      .object({
        code: z.string().min(9).max(40).openapi({ description: "The rotating code the member's app or widget shows (GET /v1/me/code)" }),
      })
      .strict(),
    z
      .object({
        phone: z
          .string()
          .min(3)
          .max(40)
          .openapi({ description: "A phone number, in E.164 or national format (read in the program's country)" }),
      })
      .strict(),
  ])
  .openapi("IdentifyMember");

export const identifyMemberRoute = defineRoute(
  {
    operationId: "members.identify",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "post",
    path: "/v1/members/identify",
    tags: ["Members"],
    summary: "Identify a member at the POS: by rotating member code or by phone",
    description:
      "`code`: the code the member's app or widget shows (`GET /v1/me/code`, 30-second steps, the previous and next step accepted), verified without a database read; answers the one member it carries (a merged member's code answers the member it joined). An expired, forged or other program's code is `400 member_code_invalid`. A partner key may identify a member by code (the member showed it) and is then linked to them. `phone`: normalised to E.164 (libphonenumber-js; without a country code it is read in the country of the program's default locale), answers every member with that number (at most 10, most recently changed first) — for a partner key reading only the members it touched, only those. A POST so the phone number stays out of URLs and logs.",
    request: { body: jsonBody(IdentifyBody, { code: "4212345678" }) },
    responses: {
      200: jsonResponse(
        z.object({ data: z.array(MemberSchema) }).openapi("IdentifiedMembers"),
        "The members identified (none: an empty list)",
      ),
      ...errorResponses(400, 404),
    },
  },
  async (c, { programId }) => {
    const body = c.req.valid("json");
    c.header("cache-control", "private, no-store");
    return c.json(await identifyMember({ ctx: c.var.ctx, input: { programId, ...body } }), 200);
  },
);
