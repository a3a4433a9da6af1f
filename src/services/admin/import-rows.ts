import { z } from "zod";
import { MemberTags } from "../../domain/members/free-form";
import { MAX_CLOCK_SKEW_MS } from "../../ledger/occurred-at";

/** One member row of an import file (CSV columns or NDJSON fields). */
export const ImportMemberRow = z
  .object({
    externalId: z.string().trim().min(1).max(128),
    email: z.email().max(254).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 ()-]{5,20}$/)
      .optional(),
    name: z.string().trim().min(1).max(200).optional(),
    birthday: z.iso.date().optional(),
    tags: MemberTags.optional(),
    acquisitionChannel: z.string().trim().min(1).max(64).optional(),
    joinedAt: z.iso.datetime({ offset: true }).optional(),
    consentEmail: z.boolean().optional(),
    consentSms: z.boolean().optional(),
  })
  .strict();
export type ImportMemberRow = z.infer<typeof ImportMemberRow>;

/** One purchase of an import file; the member is found (or registered) by externalId. */
export const ImportTransactionRow = z
  .object({
    externalId: z.string().trim().min(1).max(128),
    orderId: z.string().trim().min(1).max(128),
    amount: z.number().int("amount is integer minor units").nonnegative().max(1_000_000_000_000),
    currency: z.string().regex(/^[A-Za-z]{3}$/),
    // History may go back any distance; never forward (it would count in every tier window).
    occurredAt: z.iso
      .datetime({ offset: true })
      .refine((at) => Date.parse(at) <= Date.now() + MAX_CLOCK_SKEW_MS, "occurredAt is in the future (more than 5 minutes ahead)"),
    channel: z.string().min(1).max(64).optional(),
    storeId: z.string().min(1).max(128).optional(),
    quantity: z.number().int().positive().optional(),
  })
  .strict();
export type ImportTransactionRow = z.infer<typeof ImportTransactionRow>;

/**
 * One erasure of an import file: the member by id (as `erased_members` rows are exported, to
 * re-apply erasures after a restore) or by the storefront's customer id.
 */
export const ImportErasureRow = z
  .object({
    memberId: z.string().trim().min(1).max(64).optional(),
    externalId: z.string().trim().min(1).max(128).optional(),
  })
  .strict()
  .refine((r) => (r.memberId === undefined) !== (r.externalId === undefined), "give exactly one of memberId or externalId");
export type ImportErasureRow = z.infer<typeof ImportErasureRow>;

const pastInstant = (field: string) =>
  z.iso
    .datetime({ offset: true })
    .refine((at) => Date.parse(at) <= Date.now() + MAX_CLOCK_SKEW_MS, `${field} is in the future (more than 5 minutes ahead)`);

/**
 * One row of an opening-balances file: one lot of a member (`points` with `earnedAt`), and the
 * member's own figures on any of their rows (repeated values must agree). A member's rows are
 * consecutive; a member with no points has one row without `points`.
 */
export const ImportBalanceRow = z
  .object({
    externalId: z.string().trim().min(1).max(128),
    legacyId: z.string().trim().min(1).max(128).optional(),
    points: z.number().int("points is an integer").positive().max(1_000_000_000).optional(),
    earnedAt: pastInstant("earnedAt").optional(),
    availableAt: z.iso.datetime({ offset: true }).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    lifetimeEarned: z.number().int().nonnegative().max(1_000_000_000_000).optional(),
    lifetimeRedeemed: z.number().int().nonnegative().max(1_000_000_000_000).optional(),
    tier: z.string().trim().min(1).max(128).optional(),
    tierSecuredUntil: z.iso.datetime({ offset: true }).optional(),
    referralCode: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9-]{4,32}$/, "referralCode is 4-32 letters, digits or dashes")
      .optional(),
  })
  .strict()
  .refine((r) => (r.points === undefined) === (r.earnedAt === undefined), "points and earnedAt go together (one lot per row)");
export type ImportBalanceRow = z.infer<typeof ImportBalanceRow>;

const NUMERIC_COLUMNS = new Set(["amount", "quantity", "points", "lifetimeEarned", "lifetimeRedeemed"]);

/** CSV cells are strings: coerce the typed columns before validating. */
export function coerceCsvRecord(record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(record)) {
    const v = raw.trim();
    if (v === "") continue;
    if (NUMERIC_COLUMNS.has(k)) out[k] = Number(v);
    else if (k === "consentEmail" || k === "consentSms") out[k] = v === "true" || v === "1";
    else if (k === "tags")
      out[k] = v
        .split(/[|;]/)
        .map((t) => t.trim())
        .filter(Boolean);
    else out[k] = v;
  }
  return out;
}
