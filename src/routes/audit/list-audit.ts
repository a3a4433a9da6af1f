import { z } from "@hono/zod-openapi";
import { and, desc, eq, lt, or } from "drizzle-orm";
import { auditLog } from "../../../schema";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { defineRoute } from "../route";

// The cursor is "<createdAt>|<id>" so pages walk the (program, created_at) index.
function decodeCursor(cursor: string) {
  const [createdAt, id] = cursor.split("|");
  if (!createdAt || !id)
    throw new AppError("invalid_request", "Invalid cursor: pass back nextCursor unchanged", {
      fields: [{ path: "cursor", message: "invalid cursor" }],
    });
  return { createdAt, id };
}

const AuditEntrySchema = z
  .object({
    id: z.string(),
    keyId: z
      .string()
      .nullable()
      .openapi({ description: "The API key that made the change (staff_…: a staff member); null for system changes" }),
    actor: z
      .string()
      .nullable()
      .openapi({ description: "The staff member (Cloudflare Access identity) who made the change; null for API keys" }),
    action: z.string().openapi({ example: "webhook.created" }),
    entityType: z.string().openapi({ example: "webhook" }),
    entityId: z.string().nullable(),
    before: z.unknown().nullable(),
    after: z.unknown().nullable(),
    requestId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("AuditEntry");

export const listAuditLogRoute = defineRoute(
  {
    operationId: "audit.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/audit",
    tags: ["Audit"],
    summary: "The audit log of admin writes, newest first",
    description:
      "Every admin write (keys, webhooks, configuration, member erasure and blocking…) records who, what, before and after in the same transaction as the change. Filter by entityType and entityId; cursor pagination.",
    request: {
      query: PaginationQuery.extend({
        entityType: z.string().trim().min(1).max(64).optional().openapi({ example: "api_key" }),
        entityId: z.string().trim().min(1).max(128).optional(),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ data: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }), "A page of audit entries"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    const { limit, cursor, entityType, entityId } = c.req.valid("query");
    const position = cursor ? decodeCursor(cursor) : null;
    const rows = await c.var.ctx.db
      .select({
        id: auditLog.id,
        keyId: auditLog.keyId,
        actor: auditLog.actor,
        action: auditLog.action,
        entityType: auditLog.entityType,
        entityId: auditLog.entityId,
        before: auditLog.before,
        after: auditLog.after,
        requestId: auditLog.requestId,
        createdAt: auditLog.createdAt,
      })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.programId, programId),
          entityType ? eq(auditLog.entityType, entityType) : undefined,
          entityId ? eq(auditLog.entityId, entityId) : undefined,
          position
            ? or(lt(auditLog.createdAt, position.createdAt), and(eq(auditLog.createdAt, position.createdAt), lt(auditLog.id, position.id)))
            : undefined,
        ),
      )
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return c.json(
      { data: page, nextCursor: rows.length > limit ? `${page[page.length - 1].createdAt}|${page[page.length - 1].id}` : null },
      200,
    );
  },
);
