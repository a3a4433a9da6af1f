import { z } from "@hono/zod-openapi";
import { and, eq, gt, isNotNull, lte, sql } from "drizzle-orm";
import { pointLots } from "../../../schema";
import { localMonth, localMonthRange } from "../../domain/local-time";
import { versionAtLeast } from "../../lib/api-version";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { requestApiVersion } from "../../middleware/api-version";
import { PendingSyncSchema } from "../../services/ledger/queued-writes";
import { memberLedger } from "../../services/ledger/write";
import { requireMemberRow } from "../../services/members/members";
import { balanceOf } from "../../services/members/view";
import { timeZoneOf } from "../../services/program/local-day";
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
    nextReleaseAt: z
      .string()
      .nullable()
      .openapi({ description: "When the next pending points become available. Before API version 2026-12-01: `nextRelease`" }),
    expiring: z.array(z.object({ points: z.number().int(), expiresAt: z.string() })),
    expiringThisMonth: z.object({
      month: z.string().openapi({ description: "The current month in the program's time zone (YYYY-MM)" }),
      points: z.number().int().openapi({ description: "Points that expire from now to the end of that month (its last instant included)" }),
    }),
    pendingSync: PendingSyncSchema,
  })
  .openapi("BalanceDetail");

export const getBalanceRoute = defineRoute(
  {
    operationId: "members.balance.get",
    principals: { scopes: ["storefront", "partner", "admin"], member: "read" },
    method: "get",
    path: "/v1/members/{memberId}/balance",
    tags: ["Points"],
    summary: "Balance: available, pending, points debt, lifetime, and points expiring by date",
    description:
      "`expiringThisMonth` is the current month of the program's time zone. `pendingSync` counts the accruals and redemptions accepted (202) while the database was out of reach and not applied yet: they are not in the figures above.",
    request: { params: MemberIdParam },
    responses: {
      200: jsonResponse(BalanceDetail, "The balance"),
      308: {
        description: "The member was merged into another: `Location` is that member's balance",
        headers: { Location: { description: "/v1/members/{mergedInto}/balance", schema: { type: "string" as const } } },
        content: { "application/json": { schema: z.object({ mergedInto: z.string() }).openapi("MergedInto") } },
      },
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    const { db } = c.var.ctx;
    const [member, timeZone, pendingSync] = await Promise.all([
      requireMemberRow(c.var.ctx, programId, memberId),
      timeZoneOf(db, programId),
      memberLedger(c.env, programId, memberId).pendingSync(),
    ]);
    if (member.status === "merged" && member.mergedInto) {
      // A merged member's points are the member's it joined: point there (a following client lands on them).
      c.header("location", `/v1/members/${encodeURIComponent(member.mergedInto)}/balance`);
      return c.json({ mergedInto: member.mergedInto } as never, 308) as never;
    }
    const now = new Date().toISOString();
    const month = localMonth(now, timeZone);
    const monthEnd = localMonthRange(month, timeZone).end;
    // An inactivity lot expires with its member's deadline, which every purchase moves.
    const expiresAt = sql<
      string | null
    >`CASE WHEN ${pointLots.expiryKind} = 'inactivity' THEN ${member.inactivityExpiresAt} ELSE ${pointLots.expiresAt} END`;
    const [expiring, pending, thisMonth] = await db.batch([
      db
        .select({ expiresAt, points: sql<number>`sum(${pointLots.remaining})` })
        .from(pointLots)
        .where(and(eq(pointLots.memberId, memberId), gt(pointLots.remaining, 0), isNotNull(expiresAt), gt(expiresAt, now)))
        .groupBy(expiresAt)
        .orderBy(expiresAt)
        .limit(20),
      db
        .select({ next: sql<string | null>`min(${pointLots.availableAt})` })
        .from(pointLots)
        .where(and(eq(pointLots.memberId, memberId), eq(pointLots.released, 0))),
      db
        .select({ points: sql<number>`coalesce(sum(${pointLots.remaining}), 0)` })
        .from(pointLots)
        .where(and(eq(pointLots.memberId, memberId), gt(pointLots.remaining, 0), gt(expiresAt, now), lte(expiresAt, monthEnd))),
    ]);
    const body = {
      ...balanceOf(member),
      lifetimeEarned: member.lifetimeEarned,
      lifetimeRedeemed: member.lifetimeRedeemed,
      nextReleaseAt: pending[0]?.next ?? null,
      expiring: expiring.map((e: { points: unknown; expiresAt: string | null }) => ({
        points: Number(e.points),
        expiresAt: e.expiresAt as string,
      })),
      expiringThisMonth: { month, points: Number(thisMonth[0]?.points ?? 0) },
      pendingSync,
    };
    if (versionAtLeast(requestApiVersion(c), "2026-12-01")) return c.json(body, 200);
    // Clients pinned before 2026-12-01 keep the field's old name (API_CHANGELOG).
    const { nextReleaseAt, ...rest } = body;
    return c.json({ ...rest, nextRelease: nextReleaseAt } as unknown as typeof body, 200);
  },
);
