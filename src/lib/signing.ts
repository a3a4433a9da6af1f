import { base64Decode, base64Encode, hmacSha256Base64, hmacSha256Hex, timingSafeEqualText } from "./crypto";

/**
 * Webhook signatures, in both directions. Two schemes:
 *
 * - **Standard Webhooks** (https://www.standardwebhooks.com, Svix's scheme, with verifiers in a
 *   dozen languages): `webhook-id`, `webhook-timestamp` (unix seconds) and
 *   `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`, several
 *   space-separated while a rotation overlaps. The key is the base64 after the `whsec_` prefix.
 * - **X-Loyalty-Signature** (deprecated): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…]`,
 *   keyed with the whole secret string. Accepted inbound until LEGACY_SIGNATURE_SUNSET, and still
 *   sent to the subscriptions that were created with it.
 *
 * Implemented on WebCrypto alone (no library in the Worker bundle); the tests check both
 * directions against the `standardwebhooks` npm package, as partners use it.
 */
export const WEBHOOK_SCHEMES = ["standard-webhooks", "x-loyalty-signature"] as const;
export type WebhookScheme = (typeof WEBHOOK_SCHEMES)[number];

export const STANDARD_HEADERS = { id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature" } as const;
export const LEGACY_SIGNATURE_HEADER = "x-loyalty-signature";
/** The end of X-Loyalty-Signature's deprecation window for inbound events (announced in the Sunset header of every request signed with it). */
export const LEGACY_SIGNATURE_SUNSET = new Date("2027-06-30T00:00:00Z");

/** Requests older or newer than this are rejected, so a captured request cannot be replayed later. */
const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Standard Webhooks asks for at least 24 random bytes. */
const SECRET_BYTES = 32;
const SECRET_PREFIX = "whsec_";

/** A fresh signing secret, `whsec_` + base64 of random bytes (shown once; kept in the clear only because HMAC needs it). */
export const newSigningSecret = () => `${SECRET_PREFIX}${base64Encode(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;

/** The HMAC key of a Standard Webhooks secret, or null for a secret that is not one (a `psk_…` from before the standard). */
export function standardKey(secret: string): Uint8Array | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const key = base64Decode(secret.slice(SECRET_PREFIX.length));
  return key && key.length > 0 ? key : null;
}

export type SignatureVerdict =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "missing" | "malformed" | "expired" | "mismatch"; message: string };

const nowSeconds = (now?: Date) => Math.floor((now ?? new Date()).getTime() / 1000);

function expired(timestamp: number, now: Date | undefined, tolerance: number): SignatureVerdict | null {
  if (Math.abs(nowSeconds(now) - timestamp) <= tolerance) return null;
  return { ok: false, reason: "expired", message: `Signature timestamp is outside the ±${tolerance}s tolerance (replayed or clock skew)` };
}

// ---- Standard Webhooks -----------------------------------------------------------------------

const standardContent = (id: string, timestamp: number, body: string) => `${id}.${timestamp}.${body}`;

/** The three headers for `body`, signed with every secret given (newest first). */
export async function standardSignatureHeaders(
  secrets: readonly string[],
  id: string,
  body: string,
  timestamp = nowSeconds(),
): Promise<Record<string, string>> {
  const keys = secrets.map(standardKey).filter((k): k is Uint8Array => k !== null);
  if (keys.length === 0) throw new Error("No Standard Webhooks secret (whsec_ + base64) to sign with");
  const signatures = await Promise.all(keys.map((k) => hmacSha256Base64(k, standardContent(id, timestamp, body))));
  return {
    [STANDARD_HEADERS.id]: id,
    [STANDARD_HEADERS.timestamp]: String(timestamp),
    [STANDARD_HEADERS.signature]: signatures.map((s) => `v1,${s}`).join(" "),
  };
}

/** The `v1` signatures of a webhook-signature header (other versions, such as asymmetric `v1a`, are ignored as the spec asks). */
function standardSignatures(header: string): string[] {
  return header
    .split(" ")
    .map((token) => token.trim())
    .filter((token) => token.startsWith("v1,"))
    .map((token) => token.slice(3))
    .filter((sig) => /^[A-Za-z0-9+/]{43}=$/.test(sig));
}

/**
 * Check a request signed the Standard Webhooks way. Compares in constant time against every
 * (secret × signature) pair and always computes all of them, so timing does not reveal which matched.
 */
export async function verifyStandardSignature(input: {
  id: string | undefined | null;
  timestamp: string | undefined | null;
  signature: string | undefined | null;
  body: string;
  secrets: readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}): Promise<SignatureVerdict> {
  if (!input.id || !input.timestamp || !input.signature)
    return { ok: false, reason: "missing", message: "Missing webhook-id, webhook-timestamp or webhook-signature header" };
  const signatures = input.signature.length <= 2000 ? standardSignatures(input.signature) : [];
  if (input.id.length > 256 || !/^\d{1,12}$/.test(input.timestamp) || signatures.length === 0)
    return {
      ok: false,
      reason: "malformed",
      message:
        "Malformed Standard Webhooks headers: expected webhook-timestamp in unix seconds and webhook-signature v1,<base64 HMAC-SHA256>",
    };
  const timestamp = Number(input.timestamp);
  const late = expired(timestamp, input.now, input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS);
  if (late) return late;
  let matched = false;
  for (const key of input.secrets.map(standardKey)) {
    if (!key) continue;
    const expected = await hmacSha256Base64(key, standardContent(input.id, timestamp, input.body));
    for (const candidate of signatures) matched = timingSafeEqualText(expected, candidate) || matched;
  }
  return matched
    ? { ok: true, timestamp }
    : { ok: false, reason: "mismatch", message: "Signature does not match the body and the signing secret" };
}

// ---- X-Loyalty-Signature (deprecated) --------------------------------------------------------

const legacySignatureFor = (secret: string, timestamp: number, body: string) => hmacSha256Hex(secret, `${timestamp}.${body}`);

/** The X-Loyalty-Signature value for `body`, signed with every secret given (newest first). */
export async function legacySignatureHeader(secrets: readonly string[], body: string, timestamp = nowSeconds()): Promise<string> {
  const sigs = await Promise.all(secrets.map((s) => legacySignatureFor(s, timestamp, body)));
  return [`t=${timestamp}`, ...sigs.map((s) => `v1=${s}`)].join(",");
}

export type ParsedLegacySignature = { timestamp: number; signatures: string[] };

export function parseLegacySignatureHeader(header: string | undefined | null): ParsedLegacySignature | null {
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

/** Check an X-Loyalty-Signature, in constant time over every (secret × v1) pair. */
export async function verifyLegacySignature(input: {
  header: string | undefined | null;
  body: string;
  secrets: readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}): Promise<SignatureVerdict> {
  if (!input.header) return { ok: false, reason: "missing", message: `Missing ${LEGACY_SIGNATURE_HEADER} header` };
  const parsed = parseLegacySignatureHeader(input.header);
  if (!parsed)
    return {
      ok: false,
      reason: "malformed",
      message: `Malformed ${LEGACY_SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex HMAC-SHA256>`,
    };
  const late = expired(parsed.timestamp, input.now, input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS);
  if (late) return late;
  let matched = false;
  for (const secret of input.secrets) {
    const expected = await legacySignatureFor(secret, parsed.timestamp, input.body);
    for (const candidate of parsed.signatures) matched = timingSafeEqualText(expected, candidate) || matched;
  }
  return matched
    ? { ok: true, timestamp: parsed.timestamp }
    : { ok: false, reason: "mismatch", message: "Signature does not match the body and the signing secret" };
}

// ---- Both --------------------------------------------------------------------------------------

/** The headers that sign an outbound request with `scheme`. */
export async function signedHeaders(
  scheme: WebhookScheme,
  input: { secrets: readonly string[]; id: string; body: string; timestamp?: number },
): Promise<Record<string, string>> {
  return scheme === "standard-webhooks"
    ? standardSignatureHeaders(input.secrets, input.id, input.body, input.timestamp)
    : { [LEGACY_SIGNATURE_HEADER]: await legacySignatureHeader(input.secrets, input.body, input.timestamp) };
}

/**
 * Check an inbound request by the scheme whose headers arrived: any `webhook-*` header means
 * Standard Webhooks (then all three must be valid), otherwise X-Loyalty-Signature.
 */
export async function verifyInboundSignature(input: {
  header: (name: string) => string | undefined | null;
  body: string;
  secrets: readonly string[];
  now?: Date;
}): Promise<SignatureVerdict & { scheme: WebhookScheme }> {
  const standard = {
    id: input.header(STANDARD_HEADERS.id),
    timestamp: input.header(STANDARD_HEADERS.timestamp),
    signature: input.header(STANDARD_HEADERS.signature),
  };
  const legacy = input.header(LEGACY_SIGNATURE_HEADER);
  if (legacy && !standard.id && !standard.timestamp && !standard.signature) {
    return { scheme: "x-loyalty-signature", ...(await verifyLegacySignature({ ...input, header: legacy })) };
  }
  return { scheme: "standard-webhooks", ...(await verifyStandardSignature({ ...standard, ...input })) };
}
