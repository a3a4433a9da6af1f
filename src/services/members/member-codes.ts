import { and, eq, isNull, sql } from "drizzle-orm";
import { members, programs } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { timingSafeEqualText } from "../../lib/crypto";
import { AppError, notFound } from "../../lib/errors";
import { randomBase32 } from "../../lib/ids";
import { openSecret, sealSecret, secretContext } from "../../lib/secret-box";

/**
 * Rotating member codes for the POS, like TOTP (RFC 6238): the member's app or widget shows
 * `<member number><8 digits>`, the digits an HMAC-SHA256 over the program, the member number and
 * the current 30-second step, under a per-program secret (random, stored sealed in the program's
 * settings like the other secrets, created on first use, never leaving the server). The POS
 * sends the code; it is checked against the previous, current and next step without a database
 * read (the secret is cached per isolate), so a forged or expired code costs nothing but an HMAC,
 * and only a valid one reads the member (one indexed read by number). The program is part of
 * what is signed: a code from another program never verifies. A code can be shown again within
 * its window (as a QR code on a phone is), so it is not single-use; it identifies, it does not
 * authorise spending (redemptions still need the shop's key).
 */

const CODE_PERIOD_SECONDS = 30;
const OTP_DIGITS = 8;
const OTP_MODULUS = 10 ** OTP_DIGITS;
const MAX_CACHED = 5_000;

const encoder = new TextEncoder();
const codeKeys = new Map<string, CryptoKey>();
const memberNumbers = new Map<string, number>();

function remember<V>(map: Map<string, V>, key: string, value: V) {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_CACHED) map.delete(map.keys().next().value as string);
}

/** The program's code key: from the isolate's cache, else its sealed secret (created when `create`). */
async function codeKey(ctx: ServiceContext, programId: string, create: boolean): Promise<CryptoKey | null> {
  const cached = codeKeys.get(programId);
  if (cached) return cached;
  const read = async () =>
    (await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, programId)).limit(1))[0];
  let row = await read();
  if (!row) return null;
  let sealed = (row.settings as { memberCodeSecret?: string }).memberCodeSecret;
  if (!sealed && create) {
    const fresh = await sealSecret(ctx.env, randomBase32(52), secretContext.memberCode(programId));
    // Two first uses racing agree on one secret: only the first write lands.
    await ctx.db.run(
      sql`UPDATE programs SET settings = json_set(settings, '$.memberCodeSecret', ${fresh})
          WHERE id = ${programId} AND json_extract(settings, '$.memberCodeSecret') IS NULL`,
    );
    row = await read();
    sealed = (row?.settings as { memberCodeSecret?: string } | undefined)?.memberCodeSecret;
  }
  if (!sealed) return null;
  const secret = await openSecret(ctx.env, sealed, secretContext.memberCode(programId));
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  remember(codeKeys, programId, key);
  return key;
}

/** The 8 digits of one step (RFC 4226 dynamic truncation of an HMAC-SHA256). */
async function digitsFor(key: CryptoKey, programId: string, memberNumber: number, step: number): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${programId}:${memberNumber}:${step}`)));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % OTP_MODULUS).padStart(OTP_DIGITS, "0");
}

const stepAt = (ms: number) => Math.floor(ms / 1000 / CODE_PERIOD_SECONDS);

/** The member's number in the program, given on first use (the next free one; the unique index guards it). */
async function memberNumberOf(ctx: ServiceContext, programId: string, memberId: string): Promise<number> {
  const cacheKey = `${programId}:${memberId}`;
  const cached = memberNumbers.get(cacheKey);
  if (cached !== undefined) return cached;
  const read = async () =>
    (
      await ctx.db
        .select({ number: members.memberNumber, status: members.status })
        .from(members)
        .where(and(eq(members.programId, programId), eq(members.id, memberId)))
        .limit(1)
    )[0];
  let row = await read();
  if (!row || row.status === "erased" || row.status === "merged") throw notFound("Member");
  if (row.number === null) {
    // One statement: SQLite runs it alone, so two members never take the same number.
    await ctx.db
      .update(members)
      .set({ memberNumber: sql`(SELECT COALESCE(MAX(member_number), 0) + 1 FROM members WHERE program_id = ${programId})` })
      .where(and(eq(members.id, memberId), isNull(members.memberNumber)));
    row = await read();
  }
  const number = row?.number;
  if (number == null) throw notFound("Member");
  remember(memberNumbers, cacheKey, number);
  return number;
}

/** The code a member shows now, and when to show the next. */
export async function currentMemberCode({ ctx, input }: { ctx: ServiceContext; input: { programId: string; memberId: string } }) {
  const [number, key] = await Promise.all([memberNumberOf(ctx, input.programId, input.memberId), codeKey(ctx, input.programId, true)]);
  if (!key) throw notFound("Program");
  const step = stepAt(Date.now());
  return {
    code: `${number}${await digitsFor(key, input.programId, number, step)}`,
    memberNumber: number,
    periodSeconds: CODE_PERIOD_SECONDS,
    /** When the app should show the next code (the POS still accepts this one for one more period). */
    refreshAt: new Date((step + 1) * CODE_PERIOD_SECONDS * 1000).toISOString(),
  };
}

const invalidCode = () => new AppError("member_code_invalid", "The member code is not valid (expired, mistyped or from another program)");

/**
 * The member number a code carries when it verifies for this program at the previous, current or
 * next step; otherwise 400 member_code_invalid. No database read once the program's key is cached.
 */
export async function verifyMemberCode(ctx: ServiceContext, programId: string, raw: string): Promise<number> {
  const code = raw.replace(/[\s-]/g, "");
  if (!/^[1-9]\d{0,11}\d{8}$/.test(code)) throw invalidCode();
  const number = Number(code.slice(0, -OTP_DIGITS));
  const given = code.slice(-OTP_DIGITS);
  const key = await codeKey(ctx, programId, false);
  if (!key) throw invalidCode();
  const now = stepAt(Date.now());
  let valid = false;
  // Every step is computed and compared (no early exit), so timing says nothing about which matched.
  for (const step of [now - 1, now, now + 1]) if (timingSafeEqualText(await digitsFor(key, programId, number, step), given)) valid = true;
  if (!valid) throw invalidCode();
  return number;
}
