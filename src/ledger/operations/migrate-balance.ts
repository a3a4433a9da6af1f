import { and, eq, ne, sql } from "drizzle-orm";
import { members, tierHistory } from "../../../schema";
import { batchRead, readTogether } from "../../db/batch-read";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { tiersRead } from "../../services/tiers/ladder";
import {
  addDeltas,
  balanceAfter,
  type EntryView,
  entry,
  type MemberDelta,
  memberDelta,
  newLot,
  owedBy,
  programAndMemberRead,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";

/** One member's opening balance from the system a program migrates from. */
export type OpeningBalanceInput = {
  /** The member's id in the old system, kept in the member's attributes (`legacyId`). */
  legacyId?: string;
  /** The points the member holds, as the old system's lots with their own dates. */
  lots: Array<{ points: number; earnedAt: string; availableAt?: string; expiresAt?: string | null }>;
  /** Lifetime figures as the old system counted them (default: the lots' sum, and 0). */
  lifetimeEarned?: number;
  lifetimeRedeemed?: number;
  /** Tier id or name, held until `tierSecuredUntil` (requalification keeps it until then). */
  tier?: string;
  tierSecuredUntil?: string;
  referralCode?: string;
};

/** What a migrated entry's reason and source type say. */
const MIGRATION = "migration";

/**
 * A member's opening balance: one `earn` entry (reason and source `migration`) and one lot per
 * old lot, with its original earn, availability and expiry instants, through the same lot rules
 * as any credit (a points debt or negative balance the member has here is repaid first, with its
 * lot_allocations rows); the lifetime figures, tier and referral code set in the same batch. All
 * of it or nothing: the member's Durable Object commits it as one batch.
 */
export async function planOpeningBalance(scope: WriteScope, input: OpeningBalanceInput) {
  // The referral code's other holder, if any (no code given: a query that finds none).
  const code = input.referralCode?.toUpperCase() ?? "";
  const codeTakenRead = batchRead(
    [
      scope.db
        .select({ id: members.id })
        .from(members)
        .where(and(eq(members.programId, scope.programId), eq(members.referralCode, code), ne(members.id, scope.memberId)))
        .limit(1),
    ],
    ([rows]) => code !== "" && rows.length > 0,
  );
  const [{ program, member }, ladder, codeTaken] = await readTogether(scope.db, [
    programAndMemberRead(scope),
    tiersRead(scope.db, scope.programId),
    codeTakenRead,
  ]);
  requireActive(member);

  const expired = input.lots.find((l) => l.expiresAt && l.expiresAt <= scope.now);
  if (expired)
    throw new AppError("invalid_request", `A lot earned ${expired.earnedAt} expired at ${expired.expiresAt}: leave expired points out`);
  const total = input.lots.reduce((s, l) => s + l.points, 0);
  if (input.lifetimeEarned !== undefined && input.lifetimeEarned < total)
    throw new AppError("invalid_request", `lifetimeEarned ${input.lifetimeEarned} is less than the ${total} points the lots hold`);
  const tier = input.tier
    ? (ladder.find((t) => t.id === input.tier) ?? ladder.find((t) => t.name.toLowerCase() === input.tier!.toLowerCase()))
    : undefined;
  if (input.tier && !tier) throw new AppError("invalid_request", `No tier ${input.tier} in this program`);
  if (codeTaken) throw new AppError("conflict", `Referral code ${input.referralCode} is another member's`);

  const statements: Statement[] = [];
  const entries: EntryView[] = [];
  let credit: MemberDelta = {};
  let owed = owedBy(member);
  for (const lot of [...input.lots].sort((a, b) => (a.earnedAt < b.earnedAt ? -1 : 1))) {
    const e = entry(scope, {
      type: "earn",
      points: lot.points,
      reason: MIGRATION,
      sourceType: MIGRATION,
      sourceId: input.legacyId ?? null,
      metadata: { earnedAt: lot.earnedAt, expiresAt: lot.expiresAt ?? null, migratedAt: scope.now },
      at: lot.earnedAt,
    });
    const made = newLot(scope, program, member, {
      entryId: e.row.id,
      points: lot.points,
      hold: false,
      owed,
      dates: { earnedAt: lot.earnedAt, availableAt: lot.availableAt ?? lot.earnedAt, expiresAt: lot.expiresAt ?? null },
    });
    owed = made.owedLeft;
    credit = addDeltas(credit, made.delta);
    entries.push(e.view, ...(made.repayment ? [made.repayment] : []));
    statements.push(e.statement, ...made.statements);
  }
  const delta = { ...credit, earned: input.lifetimeEarned ?? total, redeemed: input.lifetimeRedeemed ?? 0 };
  const extra: Record<string, unknown> = {};
  if (input.legacyId) extra.attributes = sql`json_set(${members.attributes}, '$.legacyId', ${input.legacyId})`;
  if (input.referralCode) extra.referralCode = input.referralCode.toUpperCase();
  if (tier) Object.assign(extra, { tierId: tier.id, tierSince: scope.now, tierSecuredUntil: input.tierSecuredUntil ?? null });
  statements.push(memberDelta(scope, delta, extra));
  if (tier)
    statements.push(
      scope.db.insert(tierHistory).values({
        id: newId("th"),
        programId: scope.programId,
        memberId: scope.memberId,
        fromTierId: member.tierId,
        toTierId: tier.id,
        change: MIGRATION,
        reason: MIGRATION,
        createdAt: scope.now,
      }) as Statement,
    );
  return {
    status: 201 as const,
    body: {
      memberId: scope.memberId,
      points: total,
      lots: input.lots.length,
      entries,
      tierId: tier?.id ?? member.tierId,
      balance: balanceAfter(member, delta),
    },
    statements,
  };
}
