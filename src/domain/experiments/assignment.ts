// Deterministic experiment assignment: the same member always lands in the same group for the
// same experiment, with no stored state, so any Worker isolate can compute it synchronously.

export interface VariantWeight {
  key: string;
  /** Relative weight; any positive number (weights need not sum to 1 or 100). */
  weight: number;
}

export interface AssignVariantInput {
  experimentId: string;
  memberId: string;
  variants: readonly VariantWeight[];
  /** Share of members held out of the experiment, in percent (0–100), e.g. 10 means 10 %. */
  holdoutPct: number;
}

export type Assignment = { group: "holdout"; variantKey: null } | { group: "variant"; variantKey: string };

const utf8 = new TextEncoder();

/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain) over the UTF-8 bytes of `text`.
 * Chosen over FNV-1a because its finaliser mixes every input bit into the high bits, which is
 * what we use when mapping to [0, 1); short sequential ids ("m1", "m2", …) would otherwise cluster.
 */
export function murmur3Hash32(text: string, seed = 0): number {
  const bytes = utf8.encode(text);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blockEnd = bytes.length & ~3;

  for (let i = 0; i < blockEnd; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  const tailLength = bytes.length & 3;
  if (tailLength > 0) {
    let tail = 0;
    if (tailLength === 3) tail ^= bytes[blockEnd + 2] << 16;
    if (tailLength >= 2) tail ^= bytes[blockEnd + 1] << 8;
    tail ^= bytes[blockEnd];
    tail = Math.imul(tail, c1);
    tail = (tail << 15) | (tail >>> 17);
    tail = Math.imul(tail, c2);
    h ^= tail;
  }

  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_POW_32 = 4294967296;

/**
 * 32-bit hash of (experiment, member, purpose). Ids are length-prefixed so that ("ab", "c") and
 * ("a", "bc") cannot collide by concatenation; `purpose` gives each decision an independent draw.
 */
function memberHash32(experimentId: string, memberId: string, purpose: string): number {
  return murmur3Hash32(`${experimentId.length}:${experimentId}|${memberId.length}:${memberId}|${purpose}`);
}

/** Uniform number in [0, 1) for (experiment, member, purpose). */
function hashToUnitInterval(experimentId: string, memberId: string, purpose: string): number {
  return memberHash32(experimentId, memberId, purpose) / TWO_POW_32;
}

function validateAssignmentInput({ experimentId, memberId, variants, holdoutPct }: AssignVariantInput): void {
  if (typeof experimentId !== "string" || experimentId.length === 0) throw new RangeError("experimentId must be a non-empty string");
  if (typeof memberId !== "string" || memberId.length === 0) throw new RangeError("memberId must be a non-empty string");
  if (!Number.isFinite(holdoutPct) || holdoutPct < 0 || holdoutPct > 100) {
    throw new RangeError(`holdoutPct must be a percentage between 0 and 100, got ${holdoutPct}`);
  }
  if (!Array.isArray(variants) || variants.length === 0) throw new RangeError("an experiment needs at least one variant");
  const seenKeys = new Set<string>();
  for (const { key, weight } of variants) {
    if (typeof key !== "string" || key.length === 0) throw new RangeError("variant keys must be non-empty strings");
    if (seenKeys.has(key)) throw new RangeError(`duplicate variant key "${key}"`);
    seenKeys.add(key);
    if (!Number.isFinite(weight) || weight <= 0) throw new RangeError(`variant "${key}" must have a positive weight, got ${weight}`);
  }
}

/**
 * Holdout is decided first from its own hash, so changing holdoutPct only moves members between
 * the holdout and their variant. Among variants we use weighted rendezvous hashing (each variant
 * draws an exponential "arrival time" -ln(u)/weight from its own hash; the earliest wins). That
 * gives P(variant) = weight / Σweights exactly, ignores the order of the variants array, and is
 * stable: changing or adding variant C only moves members into or out of C, never from A to B.
 */
export function assignVariant(input: AssignVariantInput): Assignment {
  validateAssignmentInput(input);
  const { experimentId, memberId, variants, holdoutPct } = input;

  if (hashToUnitInterval(experimentId, memberId, "holdout") < holdoutPct / 100) {
    return { group: "holdout", variantKey: null };
  }

  let chosenKey = "";
  let earliestArrival = Infinity;
  for (const { key, weight } of variants) {
    // Shift by half a step so u is in (0, 1) and -ln(u) is finite and positive.
    const u = (memberHash32(experimentId, memberId, `variant:${key}`) + 0.5) / TWO_POW_32;
    const arrival = -Math.log(u) / weight;
    // Ties are practically impossible; break them by key so the result never depends on array order.
    if (arrival < earliestArrival || (arrival === earliestArrival && key < chosenKey)) {
      earliestArrival = arrival;
      chosenKey = key;
    }
  }
  return { group: "variant", variantKey: chosenKey };
}
