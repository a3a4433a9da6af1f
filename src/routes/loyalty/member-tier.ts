import { z } from "@hono/zod-openapi";
import { progressToNextTier } from "../../domain/tiers/progress";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { getProgram } from "../../services/access/programs";
import { requireMemberRow } from "../../services/members/members";
import { loadTiers, windowFigures, windowStart } from "../../services/tiers/ladder";
import { defineRoute } from "../route";

const TierProgressSchema = z
  .object({
    current: z.object({ id: z.string(), name: z.string(), benefits: z.record(z.string(), z.unknown()) }),
    next: z.object({ id: z.string(), name: z.string(), benefits: z.record(z.string(), z.unknown()) }).nullable(),
    requirements: z.array(
      z.object({ metric: z.string(), required: z.number(), current: z.number(), missing: z.number(), percent: z.number() }),
    ),
    percent: z.number(),
    securedUntil: z.string().nullable(),
    window: z.object({ from: z.string(), to: z.string(), days: z.number() }),
    figures: z.object({ spend: z.number(), orders: z.number(), pointsEarned: z.number() }).passthrough(),
    assigned: z
      .object({ tierId: z.string(), until: z.string() })
      .nullable()
      .openapi({ description: "An admin's tier assignment in force: the member stays at least at this tier until then" }),
    message: z.string(),
  })
  .passthrough()
  .openapi("TierProgress");

export const getMemberTierRoute = defineRoute(
  {
    operationId: "members.tier.get",
    principals: { scopes: ["storefront", "partner", "admin"], member: "read" },
    method: "get",
    path: "/v1/members/{memberId}/tier",
    tags: ["Tiers"],
    summary: "A member's tier, benefits and progress to the next tier",
    description: "Shopper-ready: what is missing (spend, orders, points) and until when the current tier is secured.",
    request: { params: MemberIdParam },
    responses: { 200: jsonResponse(TierProgressSchema, "Tier and progress"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    const ctx = c.var.ctx;
    const [member, program, ladder] = await Promise.all([
      requireMemberRow(ctx, programId, memberId),
      getProgram({ ctx, input: { programId } }),
      loadTiers(ctx.db, programId),
    ]);
    if (ladder.length === 0) throw new AppError("not_found", "This program has no tiers");
    const now = new Date().toISOString();
    const from = windowStart(now, ladder);
    const figures = await windowFigures(ctx.db, memberId, from);
    const progress = progressToNextTier({
      tiers: ladder,
      currentTierId: member.tierId ?? ladder[0].id,
      figures,
      windowStart: from,
      windowEnd: now,
      securedUntil: member.tierSecuredUntil,
      currency: program.currency,
      locale: program.defaultLocale,
    });
    const assigned =
      member.assignedTierId && member.assignedTierUntil && member.assignedTierUntil > now
        ? { tierId: member.assignedTierId, until: member.assignedTierUntil }
        : null;
    return c.json({ ...progress, figures, assigned } as never, 200);
  },
);
