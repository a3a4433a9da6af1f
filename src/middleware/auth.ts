import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { apiKeys, programs } from "../../schema";
import { isDatabaseUnavailable } from "../db/availability";
import type { RateLimiter } from "../durable/rate-limiter";
import { settingsOf } from "../env";
import { ACCESS_JWT_HEADER, verifyAccessJwt } from "../lib/access-jwt";
import { FIRST_API_VERSION, isApiVersion } from "../lib/api-version";
import type { AppBindings, OperatorPrincipal, Principal, PrincipalOf, Principals, Scope, StaffRole } from "../lib/context";
import { sha256Hex, timingSafeEqualText } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import { looksLikeJwt, verifyMemberCredential } from "../services/members/tokens";
import { assertProgramActive, noteProgramStatus } from "../services/tenants/status";
import { enforceRateLimit } from "./rate-limit";

type KeyRow = {
  id: string;
  programId: string;
  scope: Scope;
  expiresAt: string | null;
  revokedAt: string | null;
  rateLimitPerMinute: number | null;
  partner: string | null;
  memberAccess: "touched" | "program";
  apiVersion: string;
  suspendedAt: string | null;
};

// Key lookups are cached per isolate briefly so a hot lookup costs one member read;
// revocation takes effect within this window everywhere.
const KEY_CACHE_MS = 30_000;
/** How old a cached key may be when the database cannot be reached to look it up again. */
const STALE_KEY_MS = 24 * 3600_000;
// Issued keys and unknown hashes are cached apart: any number of made-up keys can only
// churn the small unknown-hash map, never evict a real key from its cache.
const MAX_KNOWN_KEYS = 10_000;
const MAX_UNKNOWN_KEYS = 1_000;
const knownKeys = new Map<string, { row: KeyRow; at: number }>();
const unknownKeys = new Map<string, number>();
/** Client addresses that used up their failed-authentication allowance, until when (ms). */
const blockedAddresses = new Map<string, number>();

/** Insert at the end and drop the oldest entries past `max` (a Map iterates in insertion order). */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number) {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as string);
}

export function forgetCachedKeys() {
  knownKeys.clear();
  unknownKeys.clear();
  blockedAddresses.clear();
}

async function findKey(c: Context<AppBindings>, hash: string): Promise<KeyRow | null> {
  const now = Date.now();
  const known = knownKeys.get(hash);
  if (known && now - known.at < KEY_CACHE_MS) return known.row;
  const unknownAt = unknownKeys.get(hash);
  if (unknownAt !== undefined && now - unknownAt < KEY_CACHE_MS) return null;
  // A client that keeps presenting keys we do not know costs no more lookups until its block ends.
  refuseBlockedAddress(c, now);
  const rows = await c.var.ctx.db
    .select({
      id: apiKeys.id,
      programId: apiKeys.programId,
      scope: apiKeys.scope,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      rateLimitPerMinute: apiKeys.rateLimitPerMinute,
      partner: apiKeys.partner,
      memberAccess: apiKeys.memberAccess,
      apiVersion: apiKeys.apiVersion,
      // Read in the same lookup, so admitting a key never costs a read of its own (assertProgramActive).
      suspendedAt: programs.suspendedAt,
    })
    .from(apiKeys)
    .innerJoin(programs, eq(programs.id, apiKeys.programId))
    .where(eq(apiKeys.keyHash, hash))
    .limit(1)
    .catch((err) => {
      // While the database is out of reach a key seen before still authenticates, so accruals can
      // be stored and forwarded (a revocation cannot be written meanwhile either).
      if (known && now - known.at < STALE_KEY_MS && isDatabaseUnavailable(err)) return [known.row];
      throw err;
    });
  const row = rows[0];
  if (row === known?.row) return row;
  if (row) {
    noteProgramStatus(row.programId, row.suspendedAt);
    remember(knownKeys, hash, { row, at: now }, MAX_KNOWN_KEYS);
  } else remember(unknownKeys, hash, now, MAX_UNKNOWN_KEYS);
  return row ?? null;
}

/**
 * The caller's address as Cloudflare's edge reports it (a client cannot set this header
 * through Cloudflare). Without it (local tests) failed authentications are not throttled.
 */
const clientAddress = (c: Context<AppBindings>) => c.req.header("cf-connecting-ip") ?? null;

function refuseBlockedAddress(c: Context<AppBindings>, now: number) {
  const address = clientAddress(c);
  const until = address ? blockedAddresses.get(address) : undefined;
  if (until === undefined) return;
  if (until <= now) {
    blockedAddresses.delete(address as string);
    return;
  }
  throwAuthThrottled(c, Math.max(1, Math.ceil((until - now) / 1000)));
}

function throwAuthThrottled(c: Context<AppBindings>, retryAfterSeconds: number): never {
  c.header("Retry-After", String(retryAfterSeconds));
  throw new AppError("rate_limited", `Too many failed authentications from this address; retry after ${retryAfterSeconds}s`, {
    retryAfterSeconds,
  });
}

/**
 * Count a failed authentication against the client's address (a token bucket in the
 * RateLimiter Durable Object named after the address); past the allowance the address is
 * answered 429 without a key lookup until the bucket refills.
 */
async function recordFailedAuthentication(c: Context<AppBindings>) {
  const address = clientAddress(c);
  const namespace = c.env.RATE_LIMITER as DurableObjectNamespace<RateLimiter> | undefined;
  if (!address || !namespace) return;
  const limit = settingsOf(c.env).AUTH_FAILURES_PER_MINUTE;
  const lease = await namespace.get(namespace.idFromName(`auth-failures:${address}`)).take(limit, 1);
  if (lease.granted > 0) return;
  remember(blockedAddresses, address, Date.now() + lease.retryAfterSeconds * 1000, MAX_UNKNOWN_KEYS);
  throwAuthThrottled(c, lease.retryAfterSeconds);
}

async function refuse(c: Context<AppBindings>, message: string): Promise<never> {
  await recordFailedAuthentication(c);
  throw new AppError("unauthorized", message);
}

/** Resolve the bearer key to a principal (its program and scope). Lookup is by SHA-256, never by secret. */
async function authenticate(c: Context<AppBindings>): Promise<Principal> {
  const existing = c.get("principal");
  if (existing) return existing;
  const token = bearerToken(c);
  if (!token) throw new AppError("unauthorized", "Missing API key: send Authorization: Bearer <key>");
  const row = await findKey(c, await sha256Hex(token));
  if (!row) return refuse(c, "Invalid API key");
  if (row.revokedAt) return refuse(c, "API key has been revoked");
  if (row.expiresAt && Date.parse(row.expiresAt) <= Date.now()) return refuse(c, "API key has expired");
  const principal: Principal = {
    keyId: row.id,
    programId: row.programId,
    scope: row.scope,
    rateLimitPerMinute: row.rateLimitPerMinute,
    apiVersion: isApiVersion(row.apiVersion) ? row.apiVersion : FIRST_API_VERSION,
    ...(row.scope === "partner" ? { partner: { id: row.partner ?? row.id, memberAccess: row.memberAccess } } : {}),
  };
  c.set("principal", principal);
  c.var.ctx.principal = principal;
  await assertProgramActive(c.var.ctx, principal.programId);
  // Per-key rate limit, once per request (a second authenticate() returns above).
  await enforceRateLimit(c, principal);
  return principal;
}

/** 403 unless the principal's scope is one of `scopes`. */
export function assertScope(principal: Principal, scopes: readonly Scope[]) {
  if (!scopes.includes(principal.scope)) {
    throw new AppError("forbidden", `This route needs a key with scope ${scopes.join(" or ")}; this key is ${principal.scope}`);
  }
}

/** The bearer token of the request, or null. */
function bearerToken(c: Context<AppBindings>): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  return match ? match[1] : null;
}

/**
 * Whether the bearer is the deployment's operator token. Compared as SHA-256 digests in constant
 * time, so neither the length nor a prefix of the secret leaks; no operator token configured
 * means no request is the operator.
 */
async function isOperator(c: Context<AppBindings>, token: string | null): Promise<boolean> {
  const expected = settingsOf(c.env).OPERATOR_TOKEN;
  if (!expected || !token) return false;
  const [a, b] = await Promise.all([sha256Hex(token), sha256Hex(expected)]);
  return timingSafeEqualText(a, b);
}

const OPERATOR: OperatorPrincipal = { kind: "operator" };

const ROLE_RANK: Record<StaffRole, number> = { viewer: 0, marketer: 1, admin: 2 };

/**
 * A staff member acting in the program named by `X-Program-Id`, when the request comes through
 * Cloudflare Access (its `Cf-Access-Jwt-Assertion` verified, src/lib/access-jwt.ts) — or, on a
 * local database without Access, as STAFF_DEV_IDENTITY. Null when the request is neither (it
 * then needs an API key). 401 for a token that does not verify; 403 without the role.
 */
async function authenticateStaff(c: Context<AppBindings>, minimum: StaffRole): Promise<Principal | null> {
  const settings = settingsOf(c.env);
  const assertion = c.req.header(ACCESS_JWT_HEADER);
  let email: string | null;
  let dev = false;
  if (settings.ACCESS_TEAM_DOMAIN && settings.ACCESS_AUD) {
    if (!assertion) return null;
    refuseBlockedAddress(c, Date.now());
    email = await verifyAccessJwt(c.env, assertion, { teamDomain: settings.ACCESS_TEAM_DOMAIN, audience: settings.ACCESS_AUD });
    if (!email) return refuse(c, "Invalid Cloudflare Access token");
  } else if (settings.STAFF_DEV_IDENTITY && c.req.header("x-program-id")) {
    email = settings.STAFF_DEV_IDENTITY.toLowerCase();
    dev = true;
  } else return null;
  const programId = c.req.header("x-program-id");
  if (!programId) throw new AppError("invalid_request", "Invalid request: staff name the program they act in with X-Program-Id");
  // The development identity is an admin of every local program unless STAFF_ROLES says otherwise.
  const role = settings.STAFF_ROLES[email]?.[programId] ?? (dev ? "admin" : undefined);
  if (!role) throw new AppError("forbidden", `${email} has no role in program ${programId}`);
  if (ROLE_RANK[role] < ROLE_RANK[minimum])
    throw new AppError("forbidden", `This route needs the ${minimum} role or above; ${email} is ${role} in this program`);
  // A pseudonymous id of the person (not their email) is what rate limits and logs see.
  const principal: Principal = {
    keyId: `staff_${(await sha256Hex(email)).slice(0, 20)}`,
    programId,
    scope: "admin",
    staff: { email, role },
  };
  c.set("principal", principal);
  c.var.ctx.principal = principal;
  await assertProgramActive(c.var.ctx, principal.programId);
  await enforceRateLimit(c, principal);
  return principal;
}

/**
 * A browser with a member token or shop-signed assertion (src/services/members/tokens.ts): only
 * on routes that admit `member`, with the scope they ask for, and only for its own member — any
 * other `{memberId}` is answered as a member that does not exist. Rate limited per token.
 */
async function admitMember(c: Context<AppBindings>, principals: Exclude<Principals, "public">, bearer: string): Promise<Principal> {
  if (!principals.member)
    throw new AppError("forbidden", "A member token can call only its member's own routes; this route needs an API key");
  let credential: Awaited<ReturnType<typeof verifyMemberCredential>>;
  try {
    credential = await verifyMemberCredential(c.var.ctx, bearer, c.req.header("x-program-id"));
  } catch (err) {
    if (err instanceof AppError && err.code === "unauthorized") await recordFailedAuthentication(c);
    throw err;
  }
  if (!credential.scopes.includes(principals.member))
    throw new AppError("forbidden", `This route needs a member token with scope ${principals.member}`);
  const pathMember = c.req.param("memberId");
  if (pathMember !== undefined && pathMember !== credential.memberId) throw notFound("Member");
  const principal: Principal = {
    keyId: credential.credentialId,
    programId: credential.programId,
    scope: "storefront",
    rateLimitPerMinute: settingsOf(c.env).MEMBER_TOKEN_RATE_LIMIT_PER_MINUTE,
    member: { memberId: credential.memberId, scopes: credential.scopes },
  };
  c.set("principal", principal);
  c.var.ctx.principal = principal;
  await assertProgramActive(c.var.ctx, principal.programId);
  await enforceRateLimit(c, principal);
  return principal;
}

/** The principal a request acts as, if `principals` accepts it (401/403 otherwise); nothing on a public route. */
export async function admit<P extends Principals>(c: Context<AppBindings>, principals: P): Promise<PrincipalOf<P>> {
  if (principals === "public") return undefined as PrincipalOf<P>;
  const bearer = bearerToken(c);
  if (bearer && looksLikeJwt(bearer)) return (await admitMember(c, principals, bearer)) as PrincipalOf<P>;
  if (!principals.scopes && !principals.operator)
    throw new AppError(
      bearer ? "forbidden" : "unauthorized",
      "This route is for a browser with a member token: send Authorization: Bearer <member token>",
    );
  if (principals.operator && (await isOperator(c, bearer))) return OPERATOR as PrincipalOf<P>;
  // An API key, when one is sent, decides; otherwise a staff member, where the route admits staff.
  if (!bearer && principals.staff) {
    const staff = await authenticateStaff(c, principals.staff);
    if (staff) return staff as PrincipalOf<P>;
  }
  const principal = await authenticate(c);
  // An operator-only route: any API key, whatever its scope, is a tenant's and is refused.
  if (!principals.scopes) throw new AppError("forbidden", "This route needs the deployment's operator token; API keys cannot call it");
  assertScope(principal, principals.scopes);
  return principal as PrincipalOf<P>;
}
