import { eq } from "drizzle-orm";
import { apiKeys, programs } from "../../../schema";
import { type ExpiryPolicy, storedExpiry } from "../../domain/points/expiry";
import { type ApiVersion, LATEST_API_VERSION } from "../../lib/api-version";
import type { Scope, ServiceContext } from "../../lib/context";
import { sha256Hex } from "../../lib/crypto";
import { notFound } from "../../lib/errors";
import { newId, randomBase32 } from "../../lib/ids";
import { sealSecret, secretContext } from "../../lib/secret-box";
import { newSigningSecret } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { auditStatement } from "./audit";

export type CreateProgramInput = {
  name: string;
  currency?: string;
  basePointsPerUnit?: number;
  unitMinor?: number;
  pointCostPer1000?: number;
  allowNegativeBalance?: boolean;
  holdDays?: number;
  expiryDays?: number | null;
  /** Any expiry policy (src/domain/points/expiry.ts); wins over `expiryDays`. */
  expiryPolicy?: ExpiryPolicy;
  /** How many days back a storefront or partner may date a purchase or activity (default 30). */
  backdateDays?: number;
  /** IANA zone (default UTC). */
  timeZone?: string;
  settings?: Record<string, unknown>;
};

const scopePrefix: Record<Scope, string> = { admin: "le_admin_", storefront: "le_store_", partner: "le_partner_" };

/** A fresh secret; only its SHA-256 is stored, so it is shown exactly once. */
export async function mintKey(
  programId: string,
  scope: Scope,
  name: string,
  expiresAt: string | null = null,
  apiVersion: ApiVersion = LATEST_API_VERSION,
) {
  const secret = `${scopePrefix[scope]}${randomBase32(32)}`;
  const row = {
    id: newId("key"),
    programId,
    scope,
    name,
    prefix: secret.slice(0, scopePrefix[scope].length + 4),
    keyHash: await sha256Hex(secret),
    createdAt: nowIso(),
    expiresAt,
    apiVersion,
  };
  return { secret, row };
}

const ALL_SCOPES: readonly Scope[] = ["admin", "storefront", "partner"];

/** Create a program (tenant) with one key per scope (or per scope of `scopes`; the admin key always). */
export async function createProgram({
  ctx,
  input,
  scopes = ALL_SCOPES,
}: {
  ctx: ServiceContext;
  input: CreateProgramInput;
  scopes?: readonly Scope[];
}) {
  const now = nowIso();
  const id = newId("prg");
  const wanted = ALL_SCOPES.filter((s) => s === "admin" || scopes.includes(s));
  const keys = await Promise.all(wanted.map((s) => mintKey(id, s, `default ${s}`)));
  // Partners sign inbound events with this (src/lib/signing.ts); rotate via the admin API.
  const partnerSigningSecret =
    typeof input.settings?.partnerSigningSecret === "string" ? input.settings.partnerSigningSecret : newSigningSecret();
  await ctx.db.batch([
    ctx.db.insert(programs).values({
      id,
      name: input.name,
      currency: (input.currency ?? "USD").toUpperCase(),
      basePointsPerUnit: input.basePointsPerUnit ?? 1,
      unitMinor: input.unitMinor ?? 100,
      pointCostPer1000: input.pointCostPer1000 ?? 10_000,
      allowNegativeBalance: input.allowNegativeBalance ?? false,
      holdDays: input.holdDays ?? 0,
      ...(input.expiryPolicy ? storedExpiry(input.expiryPolicy) : { expiryDays: input.expiryDays === undefined ? 365 : input.expiryDays }),
      backdateDays: input.backdateDays ?? 30,
      timeZone: input.timeZone ?? "UTC",
      settings: { ...input.settings, partnerSigningSecret: await sealSecret(ctx.env, partnerSigningSecret, secretContext.partner(id)) },
      createdAt: now,
      updatedAt: now,
    }),
    ctx.db.insert(apiKeys).values(keys.map((k) => k.row)),
    // Filed under the new program (whoever created it: a script has no key, so keyId is null).
    auditStatement(
      { ...ctx, principal: { programId: id, keyId: ctx.principal?.keyId ?? (null as unknown as string), scope: "admin" } },
      {
        action: "program.created",
        entityType: "program",
        entityId: id,
        after: { name: input.name, keys: keys.map((k) => ({ id: k.row.id, scope: k.row.scope, prefix: k.row.prefix })) },
      },
    ),
  ]);
  return {
    programId: id,
    // Only the scopes asked for have a key; callers that ask for all three (the default) get all three.
    keys: Object.fromEntries(keys.map((k) => [k.row.scope, k.secret])) as Record<Scope, string>,
    partnerSigningSecret,
  };
}

export async function getProgram({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select().from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  return row;
}
