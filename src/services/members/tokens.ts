import { and, eq, sql } from "drizzle-orm";
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { members, programs } from "../../../schema";
import { settingsOf } from "../../env";
import type { MemberScope, ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { randomBase32 } from "../../lib/ids";
import { openSecret, sealSecret, secretContext } from "../../lib/secret-box";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { memberLookup } from "../ledger/write";
import { noteProgramStatus } from "../tenants/status";

/**
 * Member tokens: short-lived JWTs (HS256, `jose`) a shop's server mints for one member of one
 * program, which a browser may present to that member's own routes (the `member` principal of
 * defineRoute). Each program has its own signing key, named by `kid`; a rotation keeps the
 * previous key, so tokens minted before it verify until they expire (at most 24 h).
 *
 * Shop-signed assertions: a shop that would rather not call us per page view signs
 * `{ externalId, exp }` (HS256) with the program's widget secret; the browser sends it as the
 * bearer with `X-Program-Id`, and it is answered as a member token with scopes read and redeem
 * (or those its `scope` claim names). Its signature is checked against secrets cached per
 * isolate, so verifying costs no database read.
 *
 * Both kinds are refused once the member is blocked or erased: one read of the member's view,
 * which its Durable Object serves from memory.
 */

export const MEMBER_SCOPES = ["read", "redeem"] as const;
export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;
const ISSUER = "loyalty-edge";
/** After a widget secret rotation the previous one is still accepted for this long. */
const WIDGET_SECRET_OVERLAP_MS = 24 * 3600_000;
/** Keys are cached per isolate this long; a token naming a key the cache lacks reloads at once. */
const KEY_CACHE_MS = 30_000;
/** An assertion that fails against the cached secrets reloads them at most this often. */
const RELOAD_AFTER_MS = 2_000;
const MAX_CACHED_PROGRAMS = 5_000;

type TokenSettings = {
  memberTokenKey?: string;
  memberTokenKeyId?: string;
  memberTokenKeyPrevious?: string;
  memberTokenKeyPreviousId?: string;
  widgetSecret?: string;
  widgetSecretPrevious?: string;
  widgetSecretPreviousUntil?: string;
};

type ProgramKeys = { at: number; signing: Map<string, Uint8Array>; currentKid: string | null; widget: Uint8Array[] };

const keyCache = new Map<string, ProgramKeys>();
const externalIds = new Map<string, string>();
const encoder = new TextEncoder();

/** The member a browser credential acts for, as `admit` hands it to routes. */
export type MemberCredential = {
  programId: string;
  memberId: string;
  scopes: MemberScope[];
  /** What rate limits and logs see: one bucket per token (per assertion subject for assertions). */
  credentialId: string;
};

async function loadKeys(ctx: ServiceContext, programId: string): Promise<ProgramKeys | null> {
  const [row] = await ctx.db
    .select({ settings: programs.settings, suspendedAt: programs.suspendedAt })
    .from(programs)
    .where(eq(programs.id, programId))
    .limit(1);
  if (!row) return null;
  // Admitting the token then needs no read of its own to know whether the program is suspended.
  noteProgramStatus(programId, row.suspendedAt);
  const s = (row.settings ?? {}) as TokenSettings;
  const open = (value: string, context: string) => openSecret(ctx.env, value, context).then((v) => encoder.encode(v));
  const signing = new Map<string, Uint8Array>();
  if (s.memberTokenKey && s.memberTokenKeyId)
    signing.set(s.memberTokenKeyId, await open(s.memberTokenKey, secretContext.memberToken(programId)));
  if (s.memberTokenKeyPrevious && s.memberTokenKeyPreviousId)
    signing.set(s.memberTokenKeyPreviousId, await open(s.memberTokenKeyPrevious, secretContext.memberToken(programId)));
  const widget: Uint8Array[] = [];
  if (s.widgetSecret) widget.push(await open(s.widgetSecret, secretContext.widget(programId)));
  if (s.widgetSecretPrevious && s.widgetSecretPreviousUntil && s.widgetSecretPreviousUntil > nowIso())
    widget.push(await open(s.widgetSecretPrevious, secretContext.widget(programId)));
  const keys = { at: Date.now(), signing, currentKid: s.memberTokenKeyId ?? null, widget };
  keyCache.delete(programId);
  keyCache.set(programId, keys);
  while (keyCache.size > MAX_CACHED_PROGRAMS) keyCache.delete(keyCache.keys().next().value as string);
  return keys;
}

async function programKeys(ctx: ServiceContext, programId: string, reload: (k: ProgramKeys) => boolean): Promise<ProgramKeys | null> {
  const cached = keyCache.get(programId);
  if (cached && Date.now() - cached.at < KEY_CACHE_MS && !reload(cached)) return cached;
  return loadKeys(ctx, programId);
}

const newSigningKeyValue = () => randomBase32(52);

/** The program's current signing key, created on first use (two racing first mints agree on one). */
async function currentSigningKey(ctx: ServiceContext, programId: string): Promise<{ kid: string; key: Uint8Array }> {
  let keys = await programKeys(ctx, programId, (k) => !k.currentKid);
  if (!keys) throw notFound("Program");
  if (!keys.currentKid) {
    const kid = `mtk_${randomBase32(16)}`;
    const sealed = await sealSecret(ctx.env, newSigningKeyValue(), secretContext.memberToken(programId));
    await ctx.db.run(
      sql`UPDATE programs SET settings = json_set(settings, '$.memberTokenKey', ${sealed}, '$.memberTokenKeyId', ${kid})
          WHERE id = ${programId} AND json_extract(settings, '$.memberTokenKeyId') IS NULL`,
    );
    keys = await loadKeys(ctx, programId);
  }
  const kid = keys?.currentKid;
  const key = kid ? keys?.signing.get(kid) : undefined;
  if (!kid || !key) throw new AppError("internal_error", "The program has no member token signing key");
  return { kid, key };
}

/** Mint a token for one active member of the program. */
export async function mintMemberToken({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; ttlSeconds?: number; scopes?: MemberScope[] };
}) {
  const [member] = await ctx.db
    .select({ status: members.status })
    .from(members)
    .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId)))
    .limit(1);
  if (!member || member.status === "erased") throw notFound("Member");
  if (member.status !== "active") throw new AppError("forbidden", "The member is blocked: no token can be minted for them");
  const scopes = [...new Set(input.scopes ?? ["read"])].sort() as MemberScope[];
  const ttl = input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const { kid, key } = await currentSigningKey(ctx, input.programId);
  const issuedAt = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ scope: scopes.join(" ") })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
    .setIssuer(ISSUER)
    .setAudience(input.programId)
    .setSubject(input.memberId)
    .setJti(randomBase32(20))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl)
    .sign(key);
  return {
    token,
    tokenType: "Bearer" as const,
    memberId: input.memberId,
    scopes,
    expiresAt: new Date((issuedAt + ttl) * 1000).toISOString(),
  };
}

/** New signing key; the previous one keeps verifying the tokens it signed until they expire. */
export async function rotateMemberTokenKey({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  const s = row.settings as TokenSettings;
  const kid = `mtk_${randomBase32(16)}`;
  const sealed = await sealSecret(ctx.env, newSigningKeyValue(), secretContext.memberToken(input.programId));
  const now = nowIso();
  await ctx.db.batch([
    ctx.db
      .update(programs)
      .set({
        settings: sql`json_set(${programs.settings}, '$.memberTokenKey', ${sealed}, '$.memberTokenKeyId', ${kid}, '$.memberTokenKeyPrevious', ${s.memberTokenKey ?? null}, '$.memberTokenKeyPreviousId', ${s.memberTokenKeyId ?? null})`,
        updatedAt: now,
      })
      .where(eq(programs.id, input.programId)),
    auditStatement(ctx, {
      action: "member_token_key.rotated",
      entityType: "program",
      entityId: input.programId,
      after: { keyId: kid, previousKeyId: s.memberTokenKeyId ?? null },
    }),
  ]);
  keyCache.delete(input.programId);
  return { keyId: kid, previousKeyId: s.memberTokenKeyId ?? null };
}

/** New widget secret (returned once); the previous one is still accepted for 24 h. */
export async function rotateWidgetSecret({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  const current = (row.settings as TokenSettings).widgetSecret ?? null;
  const secret = `wsk_${randomBase32(40)}`;
  const sealed = await sealSecret(ctx.env, secret, secretContext.widget(input.programId));
  const now = new Date();
  const previousUntil = current ? new Date(now.getTime() + WIDGET_SECRET_OVERLAP_MS).toISOString() : null;
  await ctx.db.batch([
    ctx.db
      .update(programs)
      .set({
        settings: sql`json_set(${programs.settings}, '$.widgetSecret', ${sealed}, '$.widgetSecretPrevious', ${current}, '$.widgetSecretPreviousUntil', ${previousUntil})`,
        updatedAt: nowIso(now),
      })
      .where(eq(programs.id, input.programId)),
    auditStatement(ctx, { action: "widget_secret.rotated", entityType: "program", entityId: input.programId, after: { previousUntil } }),
  ]);
  keyCache.delete(input.programId);
  return { secret, previousSecretValidUntil: previousUntil };
}

/** Whether a bearer credential is a JWT (member token or assertion) rather than an API key. */
export const looksLikeJwt = (bearer: string) => /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(bearer);

const refused = (message: string) => new AppError("unauthorized", message);

function scopesOf(claim: unknown, fallback: MemberScope[]): MemberScope[] {
  if (claim === undefined) return fallback;
  if (typeof claim !== "string") throw refused("Invalid member token: scope");
  const scopes = claim.split(" ").filter(Boolean);
  if (scopes.some((s) => !(MEMBER_SCOPES as readonly string[]).includes(s))) throw refused("Invalid member token: unknown scope");
  return scopes as MemberScope[];
}

async function verifyWith(token: string, keys: Uint8Array[], options: Parameters<typeof jwtVerify>[2]) {
  let last: unknown = null;
  for (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      last = err;
      if (err instanceof joseErrors.JWTExpired) break;
    }
  }
  if (last instanceof joseErrors.JWTExpired) throw refused("Member token has expired");
  return null;
}

const VERIFY = { algorithms: ["HS256"], clockTolerance: 5 };

/**
 * The member a bearer JWT acts for, or 401: a member token (our issuer, a known `kid`) or a
 * shop-signed assertion for the program named by `X-Program-Id`. Then 401 unless the member is
 * active now.
 */
export async function verifyMemberCredential(
  ctx: ServiceContext,
  bearer: string,
  programHeader: string | undefined,
): Promise<MemberCredential> {
  let claims: ReturnType<typeof decodeJwt>;
  let kid: string | undefined;
  try {
    claims = decodeJwt(bearer);
    kid = decodeProtectedHeader(bearer).kid;
  } catch {
    throw refused("Invalid member token");
  }
  const credential =
    claims.iss === ISSUER ? await verifyToken(ctx, bearer, claims, kid) : await verifyAssertion(ctx, bearer, claims, programHeader);
  const { view } = await memberLookup(ctx.env, credential.programId, credential.memberId, settingsOf(ctx.env).MEMBER_VIEW_MAX_AGE_SECONDS);
  if (view?.status !== "active") throw refused("Member token no longer valid: the member is blocked or erased");
  return credential;
}

async function verifyToken(ctx: ServiceContext, bearer: string, claims: ReturnType<typeof decodeJwt>, kid: string | undefined) {
  const programId = typeof claims.aud === "string" ? claims.aud : null;
  if (!programId || !kid || !/^prg_\w{1,64}$/.test(programId)) throw refused("Invalid member token");
  const keys = await programKeys(ctx, programId, (k) => !k.signing.has(kid));
  const key = keys?.signing.get(kid);
  if (!key) throw refused("Invalid member token: unknown key");
  const payload = await verifyWith(bearer, [key], {
    ...VERIFY,
    issuer: ISSUER,
    audience: programId,
    requiredClaims: ["exp", "sub", "jti"],
  });
  if (!payload?.sub || !payload.jti || !payload.exp) throw refused("Invalid member token");
  if (payload.exp - (payload.iat ?? 0) > MAX_TOKEN_TTL_SECONDS) throw refused("Invalid member token: lifetime");
  return { programId, memberId: payload.sub, scopes: scopesOf(payload.scope, []), credentialId: `mtok_${payload.jti}` };
}

async function verifyAssertion(ctx: ServiceContext, bearer: string, claims: ReturnType<typeof decodeJwt>, programId: string | undefined) {
  if (!programId || !/^prg_\w{1,64}$/.test(programId)) throw refused("A shop-signed assertion needs X-Program-Id naming its program");
  if (typeof claims.externalId !== "string" || !claims.externalId) throw refused("Invalid assertion: externalId");
  let keys = await programKeys(ctx, programId, () => false);
  if (!keys || keys.widget.length === 0) throw refused("Invalid assertion: the program has no widget secret");
  const options = { ...VERIFY, requiredClaims: ["exp"] };
  let payload = await verifyWith(bearer, keys.widget, options);
  // A secret rotated on another isolate: reload once, not on every bad signature.
  if (!payload && Date.now() - keys.at > RELOAD_AFTER_MS) {
    keys = await loadKeys(ctx, programId);
    payload = keys ? await verifyWith(bearer, keys.widget, options) : null;
  }
  if (!payload?.exp) throw refused("Invalid assertion signature");
  if (payload.exp - Date.now() / 1000 > MAX_TOKEN_TTL_SECONDS) throw refused("Invalid assertion: exp more than 24 h ahead");
  const externalId = payload.externalId as string;
  const memberId = await memberIdOf(ctx, programId, externalId);
  return {
    programId,
    memberId,
    scopes: scopesOf(payload.scope, [...MEMBER_SCOPES]),
    credentialId: `mast_${programId}_${memberId}`,
  };
}

/** externalId → member id, cached per isolate (the pair never changes; erasure is caught by the status check). */
async function memberIdOf(ctx: ServiceContext, programId: string, externalId: string) {
  const cacheKey = `${programId}\u0000${externalId}`;
  const cached = externalIds.get(cacheKey);
  if (cached) return cached;
  const [row] = await ctx.db
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.externalId, externalId)))
    .limit(1);
  if (!row) throw refused("Invalid assertion: no such member");
  externalIds.set(cacheKey, row.id);
  while (externalIds.size > MAX_CACHED_PROGRAMS * 4) externalIds.delete(externalIds.keys().next().value as string);
  return row.id;
}
