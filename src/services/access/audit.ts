import { auditLog } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";

export type AuditInput = { action: string; entityType: string; entityId?: string | null; before?: unknown; after?: unknown };

/**
 * The audit row for an admin write, to put in the same `db.batch([...])` as the change so
 * both commit or neither does. Who = the calling key, and for staff the person.
 */
export function auditStatement(ctx: ServiceContext, input: AuditInput) {
  return ctx.db.insert(auditLog).values({
    id: newId("aud"),
    programId: ctx.principal?.programId ?? "system",
    keyId: ctx.principal?.keyId ?? null,
    actor: ctx.principal?.staff?.email ?? null,
    action: input.action,
    entityType: input.entityType,
    entityId: input.entityId ?? null,
    before: (input.before ?? null) as never,
    after: (input.after ?? null) as never,
    requestId: ctx.requestId,
    createdAt: nowIso(),
  });
}
