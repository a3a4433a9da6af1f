import { sql } from "drizzle-orm";
import type { Context, Next } from "hono";
import type { Database } from "../db/client";
import type { AppBindings } from "../lib/context";

/**
 * CORS for browsers calling /v1 (the widget with a member token): an origin is answered with
 * `Access-Control-Allow-Origin: <that origin>` only when the program the request authenticated
 * for lists it in its allowed origins (`programs.allowed_origins`, PATCH /v1/program). Never `*`, never credentials (the bearer is a header, no
 * cookie is involved). A preflight names no program yet, so it is let through when some program
 * lists the origin; the real request is then checked against its own program. A request that
 * failed authentication is readable by listed origins, so the widget can see its 401 and renew.
 */

/** Origins are cached per isolate this long: a settings change reaches browsers within it. */
const ORIGINS_CACHE_MS = 30_000;
const MAX_CACHED_PROGRAMS = 5_000;
const ALLOW_HEADERS = "authorization, content-type, idempotency-key, loyalty-version, x-program-id, x-request-id";
const EXPOSE_HEADERS = "loyalty-version, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, x-request-id, age";

const byProgram = new Map<string, { at: number; origins: Set<string> }>();
let anyProgram: { at: number; origins: Set<string> } | null = null;

async function originsOf(db: Database, programId: string): Promise<Set<string>> {
  const cached = byProgram.get(programId);
  if (cached && Date.now() - cached.at < ORIGINS_CACHE_MS) return cached.origins;
  const rows = await db.all<{ origin: string }>(
    sql`SELECT o.value AS origin FROM programs p, json_each(p.allowed_origins) o WHERE p.id = ${programId}`,
  );
  const origins = new Set(rows.map((r) => r.origin));
  byProgram.delete(programId);
  byProgram.set(programId, { at: Date.now(), origins });
  while (byProgram.size > MAX_CACHED_PROGRAMS) byProgram.delete(byProgram.keys().next().value as string);
  return origins;
}

async function someProgramAllows(db: Database, origin: string): Promise<boolean> {
  if (!anyProgram || Date.now() - anyProgram.at >= ORIGINS_CACHE_MS) {
    const rows = await db.all<{ origin: string }>(sql`SELECT DISTINCT o.value AS origin FROM programs p, json_each(p.allowed_origins) o`);
    anyProgram = { at: Date.now(), origins: new Set(rows.map((r) => r.origin)) };
  }
  return anyProgram.origins.has(origin);
}

export async function cors(c: Context<AppBindings>, next: Next) {
  const origin = c.req.header("origin");
  if (!origin) return next();
  const { db } = c.var.ctx;
  if (c.req.method === "OPTIONS") {
    const allowed = await someProgramAllows(db, origin);
    const headers: Record<string, string> = { vary: "Origin" };
    if (allowed)
      Object.assign(headers, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "600",
      });
    return c.body(null, 204, headers);
  }
  await next();
  c.res.headers.append("vary", "Origin");
  const principal = c.get("principal");
  const allowed = principal ? (await originsOf(db, principal.programId)).has(origin) : await someProgramAllows(db, origin);
  if (allowed) {
    c.res.headers.set("access-control-allow-origin", origin);
    c.res.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
  }
}
