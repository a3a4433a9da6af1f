import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { assignTier, TierAssignmentSchema } from "../../services/tiers/assign";
import { defineRoute } from "../route";

const TierAssignedSchema = z
  .object({
    memberId: z.string(),
    tierId: z.string(),
    tierName: z.string(),
    change: z
      .enum(["upgrade", "downgrade", "unchanged"])
      .openapi({ description: "The move on the ladder from the member's tier before (unchanged: only the end date moved)" }),
    securedUntil: z.string().openapi({ description: "When the assignment ends (UTC): the end of `until` in the program's time zone" }),
    reason: z.string(),
  })
  .openapi("TierAssigned");

export const assignMemberTierRoute = defineRoute(
  {
    operationId: "members.assignTier",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/members/{memberId}/tier",
    tags: ["Tiers"],
    summary: "Assign a tier to a member until a date",
    description:
      "Status match, invite-only tiers (`inviteOnly: true`, reached only this way) and goodwill. The member holds the tier at once; until the end of `until` (a local date) requalification never moves them below it, while purchases may still move them above it; afterwards the tier is requalified as usual. Audited (`member.tier_assigned`), kept in the tier history with its reason, and, when the tier moves, emits `tier.changed` with `assigned: true` (an upward assignment is an `upgrade` for tier-up campaigns). Assigning again replaces the assignment.",
    request: { params: MemberIdParam, body: jsonBody(TierAssignmentSchema) },
    responses: { 200: jsonResponse(TierAssignedSchema, "The assignment"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    return c.json(await assignTier({ ctx: c.var.ctx, input: { programId, memberId, ...c.req.valid("json") } }), 200);
  },
);
