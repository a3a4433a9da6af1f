import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { MemberSchema } from "../../services/member-view";
import { eraseMember } from "../../services/members";

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/erase",
  tags: ["Members"],
  summary: "Erase a member's personal data (GDPR); the ledger is kept",
  description:
    "Scope: admin. Removes the member's personal data from every table that holds a copy (profile, contact, attributes, tags, activity attributes and free-text reasons in the ledger, stored answers, event and delivery payloads, messages, feedback text) in one batch; balances, ledger points, orders and lots stay so the books balance. Keeps a tombstone of the id. Erasing again re-applies it. Afterwards profile writes and new earning or spending answer 409 member_erased; refunds and admin adjustments still apply.",
  security: bearerSecurity,
  request: { params: MemberIdParam },
  responses: { 200: jsonResponse(MemberSchema, "The erased member"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    const { memberId } = c.req.valid("param");
    return c.json(await eraseMember({ ctx: c.var.ctx, input: { programId, memberId } }), 200);
  });
