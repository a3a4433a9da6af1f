import { z } from "@hono/zod-openapi";
import { and, eq, gt, isNotNull, sql } from "drizzle-orm";
import { pointLots } from "../../../schema";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { requireMemberRow } from "../../services/members/members";
import { balanceOf } from "../../services/members/view";
import { defineRoute } from "../route";
import { Debt, Reserved } from "./schemas";

const BalanceDetail = z
  .object({
    available: z.number().int(),
    pending: z.number().int(),
    reserved: Reserved,
    total: z.number().int(),
    debt: Debt,
    lifetimeEarned: z.number().int(),
    lifetimeRedeemed: z.number().int(),
    nextRelease: z.string().nullable(),
    expiring: z.array(z.object({ points: z.number().int(), expiresAt: z.string() })),
  })
  .openapi("BalanceDetail");

export const getBalanceRoute = defineRoute(
  {
    operationId: "members.balance.get",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "get",
    path: "/v1/members/{memberId}/balance",
    tags: ["Points"],
    summary: "Balance: available, pending, points debt, lifetime, and points expiring by date",
    request: { params: MemberIdParam },
    responses: { 200: jsonResponse(BalanceDetail, "The balance"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    const { db } = c.var.ctx;
    const member = await requireMemberRow(c.var.ctx, programId, memberId);
    const now = new Date().toISOString();
    const [expiring, pending] = await db.batch([
      db
        .select({ expiresAt: pointLots.expiresAt, points: sql<number>`sum(${pointLots.remaining})` })
        .from(pointLots)
        .where(
          and(eq(pointLots.memberId, memberId), gt(pointLots.remaining, 0), isNotNull(pointLots.expiresAt), gt(pointLots.expiresAt, now)),
        )
        .groupBy(pointLots.expiresAt)
        .orderBy(pointLots.expiresAt)
        .limit(20),
      db
        .select({ next: sql<string | null>`min(${pointLots.availableAt})` })
        .from(pointLots)
        .where(and(eq(pointLots.memberId, memberId), eq(pointLots.released, 0))),
    ]);
    return c.json(
      {
        ...balanceOf(member),
        lifetimeEarned: member.lifetimeEarned,
        lifetimeRedeemed: member.lifetimeRedeemed,
        nextRelease: pending[0]?.next ?? null,
        expiring: expiring.map((e: { points: unknown; expiresAt: string | null }) => ({
          points: Number(e.points),
          expiresAt: e.expiresAt as string,
        })),
      },
      200,
    );
  },
);
