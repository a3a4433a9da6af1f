import { z } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { ledgerEntries } from "../../../schema";
import { errorResponses, jsonResponse, MemberIdParam, PaginationQuery } from "../../lib/openapi";
import { cursorPage } from "../../lib/pagination";
import { requireMemberRow } from "../../services/members/members";
import { defineRoute } from "../route";
import { EntrySchema } from "./schemas";

export const listLedgerEntriesRoute = defineRoute(
  {
    operationId: "members.ledger.list",
    principals: { scopes: ["storefront", "partner", "admin"], member: "read" },
    method: "get",
    path: "/v1/members/{memberId}/ledger",
    tags: ["Points"],
    summary: "A member's ledger, newest first",
    description: "Cursor pagination: pass nextCursor back as cursor.",
    request: { params: MemberIdParam, query: PaginationQuery },
    responses: {
      200: jsonResponse(
        z.object({ data: z.array(EntrySchema.extend({ metadata: z.unknown().nullable() })), nextCursor: z.string().nullable() }),
        "A page of entries",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await requireMemberRow(c.var.ctx, programId, memberId);
    const rows = await c.var.ctx.db
      .select({
        id: ledgerEntries.id,
        type: ledgerEntries.type,
        points: ledgerEntries.points,
        debt: ledgerEntries.debt,
        reason: ledgerEntries.reason,
        sourceType: ledgerEntries.sourceType,
        sourceId: ledgerEntries.sourceId,
        metadata: ledgerEntries.metadata,
        createdAt: ledgerEntries.createdAt,
      })
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.programId, programId),
          eq(ledgerEntries.memberId, memberId),
          cursor ? lt(ledgerEntries.id, cursor) : undefined,
        ),
      )
      .orderBy(desc(ledgerEntries.id))
      .limit(limit + 1);
    return c.json(
      cursorPage(rows, limit, (r) => r.id),
      200,
    );
  },
);
