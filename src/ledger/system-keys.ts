/**
 * Every idempotency key the system derives for its own writes, in one place. Ledger writes made
 * with them are recorded under `origin = 'system'` in ledger_requests, apart from the keys
 * clients send (`origin = 'client'`), so no Idempotency-Key a client chooses — whatever it
 * starts with — can ever take a key the system needs. A system write takes a `SystemKey`, which
 * only these builders make; a new kind of system write adds its builder here, and
 * SYSTEM_KEY_PREFIXES (with the test that sends every prefix from every client write route)
 * covers it.
 */
declare const systemKeyBrand: unique symbol;
export type SystemKey = string & { readonly [systemKeyBrand]: true };

const key = (value: string) => value as SystemKey;

export const systemKeys = {
  /** A partner event's ledger write: one per partner event id. */
  partner: (eventId: string) => key(`partner:${eventId}`),
  /** The referrer's side of a referral: the credit, and its reversal after a refund. */
  referral: (referralId: string, side: "referrer" | "reverse") => key(`referral:${referralId}:${side}`),
  /** A campaign award: one per campaign, member and occurrence. */
  campaign: (campaignId: string, memberId: string, occurrenceKey: string) => key(`campaign:${campaignId}:${memberId}:${occurrenceKey}`),
  /** Cancelling a coupon returns its points once, whoever asks. */
  coupon: (couponId: string) => key(`coupon:${couponId}:cancel`),
  /** The survey/review points of one recorded feedback. */
  feedback: (feedbackId: string) => key(`feedback:${feedbackId}`),
  /** The signup bonus: once per member. */
  signup: (memberId: string) => key(`signup:${memberId}:once`),
  /** The birthday bonus: once per member and year. */
  birthday: (memberId: string, year: string) => key(`birthday:${memberId}:${year}`),
  /** The tier's birthday gift: once per member and local year. */
  tierGift: (memberId: string, year: string) => key(`tierGift:${memberId}:birthday:${year}`),
  /** The membership anniversary milestone event: once per member and local year. */
  anniversary: (memberId: string, year: string) => key(`anniversary:${memberId}:${year}`),
  /** An imported order's earn entry (ledger_entries.request_key; imports write no ledger_requests row). */
  import: (orderId: string) => key(`import:${orderId}`),
  /** A member's opening balance migrated from another system: once per member. */
  migration: (memberId: string) => key(`migration:${memberId}`),
  /** One member's imported purchases in one bulk request (a digest of their order ids). */
  history: (memberId: string, digest: string) => key(`history:${memberId}:${digest}`),
  /** A checkout hold lapsing uncaptured: its points go back once (the member's Durable Object alarm). */
  hold: (redemptionId: string) => key(`hold:${redemptionId}:expire`),
  /** The two steps of a member merge, by the member merged away (once at most): out of it, into the one it joins. */
  merge: (sourceId: string, step: "out" | "in") => key(`merge:${sourceId}:${step}`),
  /** A lot's expiry entry (ledger_entries.request_key, built in SQL by the expiry sweep from systemKeyPrefix). */
  expire: (lotId: string) => key(`expire:${lotId}`),
} as const;

export type SystemKeyKind = keyof typeof systemKeys;

/** The prefix of one kind of system key, for keys built in SQL. */
export const systemKeyPrefix = (kind: SystemKeyKind) => `${kind}:`;

/** Every prefix a system key starts with. */
export const SYSTEM_KEY_PREFIXES: readonly string[] = (Object.keys(systemKeys) as SystemKeyKind[]).map(systemKeyPrefix);
