import { hmacSha256Hex, timingSafeEqualText } from "./crypto";
import { randomBase32 } from "./ids";

/**
 * The one signature scheme for webhooks in both directions (Stripe-style):
 *   X-Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<…>]
 * Several v1 values let a sender sign with the new and the previous secret while a
 * rotation overlaps; a receiver accepts the request if any of them matches any of its secrets.
 */
export const SIGNATURE_HEADER = "x-loyalty-signature";
/** Requests older or newer than this are rejected, so a captured request cannot be replayed later. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A fresh signing secret (shown once to whoever receives it; kept in the clear only because HMAC needs it). */
export const newSigningSecret = (prefix: "whsec" | "psk") => `${prefix}_${randomBase32(40)}`;

async function signatureFor(secret: string, timestamp: number, body: string): Promise<string> {
  return hmacSha256Hex(secret, `${timestamp}.${body}`);
}

/** The header value for `body`, signed with every secret given (newest first). */
export async function signatureHeader(
  secrets: readonly string[],
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  const sigs = await Promise.all(secrets.map((s) => signatureFor(s, timestamp, body)));
  return [`t=${timestamp}`, ...sigs.map((s) => `v1=${s}`)].join(",");
}

export type ParsedSignature = { timestamp: number; signatures: string[] };

export function parseSignatureHeader(header: string | undefined | null): ParsedSignature | null {
  if (!header || header.length > 2000) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
    // Other schemes (v0, future v2) are ignored, as receivers of such headers conventionally do.
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export type SignatureVerdict =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "missing" | "malformed" | "expired" | "mismatch"; message: string };

/**
 * Check a signed request. Compares in constant time against every (secret × v1) pair and
 * always computes all of them, so timing does not reveal which secret or position matched.
 */
export async function verifySignature(input: {
  header: string | undefined | null;
  body: string;
  secrets: readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}): Promise<SignatureVerdict> {
  if (!input.header) return { ok: false, reason: "missing", message: `Missing ${SIGNATURE_HEADER} header` };
  const parsed = parseSignatureHeader(input.header);
  if (!parsed)
    return {
      ok: false,
      reason: "malformed",
      message: `Malformed ${SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex HMAC-SHA256>`,
    };
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const tolerance = input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - parsed.timestamp) > tolerance) {
    return {
      ok: false,
      reason: "expired",
      message: `Signature timestamp is outside the ±${tolerance}s tolerance (replayed or clock skew)`,
    };
  }
  let matched = false;
  for (const secret of input.secrets) {
    const expected = await signatureFor(secret, parsed.timestamp, input.body);
    for (const candidate of parsed.signatures) matched = timingSafeEqualText(expected, candidate) || matched;
  }
  return matched
    ? { ok: true, timestamp: parsed.timestamp }
    : { ok: false, reason: "mismatch", message: "Signature does not match the body and the signing secret" };
}
