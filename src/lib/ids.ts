// Crockford base32: ids sort by creation time (ULID layout) so cursors can page by id.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = alphabet[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

export function randomBase32(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}

export type IdPrefix =
  | "prg"
  | "key"
  | "mem"
  | "led"
  | "lot"
  | "ord"
  | "evt"
  | "tier"
  | "th"
  | "jrun"
  | "rule"
  | "rwd"
  | "cpn"
  | "ref"
  | "seg"
  | "fit"
  | "cmp"
  | "occ"
  | "msg"
  | "exp"
  | "bud"
  | "whk"
  | "dlv"
  | "aud"
  | "fb"
  | "acq"
  | "rdm"
  | "qw"
  | "jrn"
  | "jst"
  | "mev"
  | "mrg";

/** An id's sortable head: the prefix and the creation time (ids generated in SQL add their own random tail). */
export const idTimePrefix = (prefix: IdPrefix, now = Date.now()) => `${prefix}_${encodeTime(now)}`;

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${idTimePrefix(prefix, now)}${randomBase32(16)}`;
}
