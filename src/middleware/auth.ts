import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { apiKeys } from "../../schema";
import type { AppBindings, Principal, PrincipalOf, Principals, Scope } from "../lib/context";
import { sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { enforceRateLimit } from "./rate-limit";

type KeyRow = {
  id: string;
  programId: string;
  scope: Scope;
  expiresAt: string | null;
  revokedAt: string | null;
  rateLimitPerMinute: number | null;
};

// Key lookups are cached per isolate briefly so a hot lookup costs one member read;
// revocation takes effect within this window everywhere.
const KEY_CACHE_MS = 30_000;
const keyCache = new Map<string, { row: KeyRow | null; at: number }>();

export function forgetCachedKeys() {
  keyCache.clear();
}

async function findKey(c: Context<AppBindings>, hash: string): Promise<KeyRow | null> {
  const hit = keyCache.get(hash);
  if (hit && Date.now() - hit.at < KEY_CACHE_MS) return hit.row;
  const [row] = await c.var.ctx.db
    .select({
      id: apiKeys.id,
      programId: apiKeys.programId,
      scope: apiKeys.scope,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      rateLimitPerMinute: apiKeys.rateLimitPerMinute,
    })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, hash))
    .limit(1);
  if (keyCache.size > 10_000) keyCache.clear();
  keyCache.set(hash, { row: row ?? null, at: Date.now() });
  return row ?? null;
}

/** Resolve the bearer key to a principal (its program and scope). Lookup is by SHA-256, never by secret. */
async function authenticate(c: Context<AppBindings>): Promise<Principal> {
  const existing = c.get("principal");
  if (existing) return existing;
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError("unauthorized", "Missing API key: send Authorization: Bearer <key>");
  const row = await findKey(c, await sha256Hex(match[1]));
  if (!row) throw new AppError("unauthorized", "Invalid API key");
  if (row.revokedAt) throw new AppError("unauthorized", "API key has been revoked");
  if (row.expiresAt && Date.parse(row.expiresAt) <= Date.now()) throw new AppError("unauthorized", "API key has expired");
  const principal: Principal = { keyId: row.id, programId: row.programId, scope: row.scope };
  c.set("principal", principal);
  c.var.ctx.principal = principal;
  // Per-key rate limit, once per request (a second authenticate() returns above).
  await enforceRateLimit(c, principal, row.rateLimitPerMinute);
  return principal;
}

/** 403 unless the principal's scope is one of `scopes`. */
export function assertScope(principal: Principal, scopes: readonly Scope[]) {
  if (!scopes.includes(principal.scope)) {
    throw new AppError("forbidden", `This route needs a key with scope ${scopes.join(" or ")}; this key is ${principal.scope}`);
  }
}

/** The principal a request acts as, if `principals` accepts it (401/403 otherwise); nothing on a public route. */
export async function admit<P extends Principals>(c: Context<AppBindings>, principals: P): Promise<PrincipalOf<P>> {
  if (principals === "public") return undefined as PrincipalOf<P>;
  const principal = await authenticate(c);
  assertScope(principal, principals.scopes);
  return principal as PrincipalOf<P>;
}
