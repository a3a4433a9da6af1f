import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { apiKeys } from "../../../schema";
import type { ApiVersion } from "../../lib/api-version";
import type { Scope, ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { forgetCachedKeys } from "../../middleware/auth";
import { forgetRateLeases } from "../../middleware/rate-limit";
import { auditStatement } from "./audit";
import { mintKey } from "./programs";

type KeyRow = typeof apiKeys.$inferSelect;

/** What lists and audit rows show of a key: never the hash, never the secret. */
function keyView(k: KeyRow) {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    prefix: k.prefix,
    rateLimitPerMinute: k.rateLimitPerMinute,
    partner: k.partner,
    memberAccess: k.memberAccess,
    apiVersion: k.apiVersion as ApiVersion,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
    status: k.revokedAt ? ("revoked" as const) : k.expiresAt && k.expiresAt <= nowIso() ? ("expired" as const) : ("active" as const),
  };
}

export type CreateKeyInput = {
  name: string;
  scope: Scope;
  expiresAt?: string | null;
  rateLimitPerMinute?: number | null;
  partner?: string;
  memberAccess?: "touched" | "program";
  /** The version requests with the key get without Loyalty-Version; default the latest. */
  apiVersion?: ApiVersion;
};

/** A new key for the caller's program; the secret is returned once, only its SHA-256 is stored. */
export async function createKey({ ctx, input }: { ctx: ServiceContext; input: CreateKeyInput & { programId: string } }) {
  if (input.expiresAt && Date.parse(input.expiresAt) <= Date.now())
    throw new AppError("invalid_request", "expiresAt must be in the future", {
      fields: [{ path: "expiresAt", message: "must be in the future" }],
    });
  if (input.scope !== "partner" && (input.partner !== undefined || input.memberAccess !== undefined))
    throw new AppError("invalid_request", "partner and memberAccess apply to partner keys only", {
      fields: [{ path: input.partner !== undefined ? "partner" : "memberAccess", message: "partner keys only" }],
    });
  const { secret, row } = await mintKey(
    input.programId,
    input.scope,
    input.name,
    input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    input.apiVersion,
  );
  const full: KeyRow = {
    ...row,
    revokedAt: null,
    lastUsedAt: null,
    expiresAt: row.expiresAt ?? null,
    rateLimitPerMinute: input.rateLimitPerMinute ?? null,
    partner: input.partner ?? null,
    memberAccess: input.memberAccess ?? "touched",
  };
  await ctx.db.batch([
    ctx.db.insert(apiKeys).values(full),
    auditStatement(ctx, { action: "key.created", entityType: "api_key", entityId: full.id, after: keyView(full) }),
  ]);
  return { ...keyView(full), secret };
}

export async function listKeys({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; limit: number; cursor?: string; includeRevoked?: boolean };
}) {
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.programId, input.programId),
        input.cursor ? lt(apiKeys.id, input.cursor) : undefined,
        input.includeRevoked ? undefined : isNull(apiKeys.revokedAt),
      ),
    )
    .orderBy(desc(apiKeys.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, keyView);
}

/**
 * Revoke a key. Refuses to revoke the program's last active admin key (that would lock
 * the program out of its own configuration). Takes effect at once in this isolate and
 * within the auth cache window (30 s) everywhere else.
 */
export async function revokeKey({ ctx, input }: { ctx: ServiceContext; input: { programId: string; keyId: string } }) {
  const [row] = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.programId, input.programId), eq(apiKeys.id, input.keyId)))
    .limit(1);
  if (!row) throw notFound("API key");
  if (row.revokedAt) return keyView(row);
  const now = nowIso();
  if (row.scope === "admin") {
    const [{ n }] = await ctx.db
      .select({ n: sql<number>`count(*)` })
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.programId, input.programId),
          eq(apiKeys.scope, "admin"),
          isNull(apiKeys.revokedAt),
          sql`(${apiKeys.expiresAt} IS NULL OR ${apiKeys.expiresAt} > ${now})`,
        ),
      );
    if (Number(n) <= 1)
      throw new AppError("conflict", "This is the program's last active admin key; create another admin key before revoking it");
  }
  const after = { ...row, revokedAt: now };
  await ctx.db.batch([
    // Guarded on revoked_at so two concurrent revocations record one revocation time.
    ctx.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, row.id), isNull(apiKeys.revokedAt))),
    auditStatement(ctx, { action: "key.revoked", entityType: "api_key", entityId: row.id, before: keyView(row), after: keyView(after) }),
  ]);
  forgetCachedKeys();
  forgetRateLeases();
  return keyView(after);
}
