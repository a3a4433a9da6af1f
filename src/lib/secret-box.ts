/**
 * Secrets at rest: the signing secrets the Worker must read back (partner signing secrets, webhook
 * secrets, campaign channel secrets) are stored sealed with AES-256-GCM (WebCrypto) under a key
 * from a Worker secret, never in the clear. Services seal when they write and open when they read;
 * nothing else changes.
 *
 *   stored = "sbx1:<key id>:<iv, base64url>:<ciphertext and tag, base64url>"
 *
 * The additional data binds a sealed value to where it belongs (`webhook:<id>`, `partner:<program>`,
 * `channel:<program>:<channel>`): copied into another row it does not open.
 *
 * Keys: SECRETS_KEK = "<key id>:<32 bytes, base64>" seals; SECRETS_KEK_PREVIOUS (same form)
 * still opens during a rotation while the `secrets.reencrypt` job reseals every value under the
 * current key. A value stored before sealing existed (no "sbx1:" prefix) opens as itself and is
 * sealed by that job too. Against a local database (loopback LIBSQL_URL) with no key configured, a
 * published development key is used, so local tools need no setup; src/env.ts refuses a remote
 * database without SECRETS_KEK.
 */
import { AppError } from "./errors";

const PREFIX = "sbx1";
/** Public by design: it protects nothing but local development databases. */
const DEVELOPMENT_KEY = "dev:bG95YWx0eS1lZGdlIGxvY2FsIGRldmVsb3BtZW50ISE=";

type KeyEnv = { LIBSQL_URL: string; SECRETS_KEK?: string; SECRETS_KEK_PREVIOUS?: string };
type Keyring = { current: { id: string; key: CryptoKey }; byId: Map<string, CryptoKey> };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
function fromBase64(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

const KEY_SPEC = /^([a-z0-9][a-z0-9-]{0,15}):([A-Za-z0-9+/_-]{43,44}={0,2})$/;

/** Why a SECRETS_KEK value is unusable, or null when it is fine (src/env.ts validates with this). */
export function keySpecProblem(spec: string): string | null {
  const match = KEY_SPEC.exec(spec.trim());
  if (!match) return 'must be "<key id>:<32 random bytes, base64>", e.g. k1:$(openssl rand -base64 32)';
  try {
    if (fromBase64(match[2]).byteLength !== 32) return "the key must be exactly 32 bytes";
  } catch {
    return "the key is not valid base64";
  }
  return null;
}

const isLoopbackUrl = (url: string) => {
  try {
    return /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/.test(new URL(url.replace(/^libsql:\/\//, "https://")).hostname);
  } catch {
    return false;
  }
};

/** Whether sealing needs a configured key: every database that is not on this machine. */
export const secretsKeyRequired = (env: Pick<KeyEnv, "LIBSQL_URL">) => !isLoopbackUrl(env.LIBSQL_URL);

async function importKey(spec: string): Promise<{ id: string; key: CryptoKey }> {
  const match = KEY_SPEC.exec(spec.trim());
  if (!match) throw new Error("invalid secrets key");
  const key = await crypto.subtle.importKey("raw", fromBase64(match[2]), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { id: match[1], key };
}

const keyrings = new Map<string, Promise<Keyring>>();

function keyring(env: KeyEnv): Promise<Keyring> {
  const current = env.SECRETS_KEK || (secretsKeyRequired(env) ? null : DEVELOPMENT_KEY);
  if (!current) throw new Error("SECRETS_KEK is not set: secrets cannot be sealed or opened for a remote database");
  const specs = [current, env.SECRETS_KEK_PREVIOUS].filter((s): s is string => Boolean(s));
  const cacheKey = specs.join("\n");
  let ring = keyrings.get(cacheKey);
  if (!ring) {
    ring = (async () => {
      const [first, ...rest] = await Promise.all(specs.map(importKey));
      const byId = new Map([...rest, first].map((k) => [k.id, k.key]));
      return { current: first, byId };
    })();
    keyrings.set(cacheKey, ring);
  }
  return ring;
}

/** Seal `plaintext` for the place named by `context`, under the current key. */
export async function sealSecret(env: KeyEnv, plaintext: string, context: string): Promise<string> {
  const { current } = await keyring(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    current.key,
    encoder.encode(plaintext),
  );
  return `${PREFIX}:${current.id}:${toBase64Url(iv)}:${toBase64Url(new Uint8Array(sealed))}`;
}

const isSealed = (stored: string) => stored.startsWith(`${PREFIX}:`);

/** The id of the key a stored value is sealed with (null: stored in the clear, from before sealing). */
const sealedKeyId = (stored: string) => (isSealed(stored) ? stored.split(":")[1] : null);

/**
 * Open a stored secret. A value from before sealing is returned as it is; one sealed under a key
 * this deployment no longer has, or moved from another place, or tampered with, is an error
 * (never a wrong secret).
 */
export async function openSecret(env: KeyEnv, stored: string, context: string): Promise<string> {
  if (!isSealed(stored)) return stored;
  const [, keyId, iv, data] = stored.split(":");
  const { byId } = await keyring(env);
  const key = byId.get(keyId);
  if (!key) throw new AppError("internal_error", `A stored secret is sealed with key "${keyId}", which is not configured`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(iv), additionalData: encoder.encode(context) },
      key,
      fromBase64(data),
    );
    return decoder.decode(plain);
  } catch {
    throw new AppError("internal_error", "A stored secret does not open (tampered with, or moved from another record)");
  }
}

/** The id of the key values are sealed with now. */
export const currentSecretsKeyId = async (env: KeyEnv) => (await keyring(env)).current.id;

/** `stored` sealed under the current key (opened and sealed again), or null when it already is. */
export async function resealed(env: KeyEnv, stored: string | null | undefined, context: string): Promise<string | null> {
  if (typeof stored !== "string" || sealedKeyId(stored) === (await currentSecretsKeyId(env))) return null;
  return sealSecret(env, await openSecret(env, stored, context), context);
}

/** Where each kind of secret belongs, as sealed into its additional data. */
export const secretContext = {
  webhook: (webhookId: string) => `webhook:${webhookId}`,
  partner: (programId: string) => `partner:${programId}`,
  channel: (programId: string, channel: string) => `channel:${programId}:${channel}`,
  memberToken: (programId: string) => `member-token:${programId}`,
  widget: (programId: string) => `widget:${programId}`,
  memberCode: (programId: string) => `member-code:${programId}`,
};
