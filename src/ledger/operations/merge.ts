import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { memberMerges, members, orders, pointLots, tiers } from "../../../schema";
import type { Consent } from "../../../schema/members";
import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { auditStatement } from "../../services/access/audit";
import { allocate, byExpiry, type LotForAllocation } from "../lots";
import type { Plan } from "../result";
import { consumeLots, entry, loadProgramAndMember, type MemberRow, memberDelta, outbox, type Statement, type WriteScope } from "../state";

/** A lot moved by a merge: what the source's lot still held, with its original dates. */
type MergeLot = {
  id: string;
  points: number;
  availableAt: string;
  released: number;
  expiresAt: string | null;
  /** How the lot expires (src/ledger/state.ts): an inactivity lot follows its member's deadline. */
  expiryKind: "date" | "period" | "inactivity";
  orderId: string | null;
  createdAt: string;
};

/**
 * What the first step (out of the source) answers, stored as its idempotent answer: everything
 * the second step (into the target) moves. No personal data: the profile is copied in SQL.
 */
export type MergeOutResult = {
  mergeId: string;
  memberId: string;
  targetId: string;
  entryId: string;
  balance: number;
  debt: number;
  lots: MergeLot[];
  lifetime: { earned: number; redeemed: number; spend: number; orders: number };
  firstPurchaseAt: string | null;
  lastPurchaseAt: string | null;
  lastActivityAt: string | null;
  tier: {
    tierId: string | null;
    tierSince: string | null;
    tierSecuredUntil: string | null;
    assignedTierId: string | null;
    assignedTierUntil: string | null;
  };
};

/** A completed merge: the answer of `POST /v1/members/{memberId}/merge`, and of every request for it again. */
export type MergeResult = {
  id: string;
  memberId: string;
  mergedFrom: string;
  status: "completed";
  pointsMoved: number;
  debtMoved: number;
  lotsMoved: number;
  ordersMoved: number;
  tierId: string | null;
  completedAt: string;
};

/** Who asked for the merge, for its audit row (written in the merge's last batch). */
export type MergeActor = { keyId: string | null; staffEmail: string | null; requestId: string };

export const mergedError = (mergedInto: string | null) =>
  new AppError("member_merged", `This member was merged into ${mergedInto}; use that member`, { mergedInto });

/**
 * Step 1, in the source's Durable Object: its whole balance and debt leave in one `merge` entry
 * that takes every lot still holding points (lot_allocations say which, so `points − remaining =
 * Σ allocations` holds for each), its lifetime figures go to zero, and the row becomes a
 * tombstone (`merged`, `mergedInto`). The answer lists the lots as they were, for step 2.
 */
export async function planMergeOut(scope: WriteScope, input: { mergeId: string; targetId: string }): Promise<Plan<MergeOutResult>> {
  const { member } = await loadProgramAndMember(scope);
  if (member.status === "merged") throw mergedError(member.mergedInto);
  if (member.status === "erased") throw new AppError("member_erased", "An erased member cannot be merged");
  if (member.pointsReserved > 0)
    throw new AppError("conflict", "The member has open checkout holds; capture or void them before merging", {
      reserved: member.pointsReserved,
    });
  const lots = await scope.db
    .select()
    .from(pointLots)
    .where(and(eq(pointLots.memberId, scope.memberId), gt(pointLots.remaining, 0)))
    .orderBy(asc(pointLots.id));
  const moved: MergeLot[] = lots.map((l) => ({
    id: l.id,
    points: l.remaining,
    availableAt: l.availableAt,
    released: l.released,
    expiresAt: l.expiresAt,
    expiryKind: l.expiryKind,
    orderId: l.orderId,
    createdAt: l.createdAt,
  }));
  const e = entry(scope, {
    type: "merge",
    points: -member.pointsBalance,
    debt: -member.pointsDebt,
    reason: "Merged into another member",
    sourceType: "merge",
    sourceId: input.mergeId,
    metadata: { targetId: input.targetId },
  });
  const takes = lots.map((l) => ({ lotId: l.id, points: l.remaining, pending: l.released === 0 }));
  const lifetime = {
    earned: member.lifetimeEarned,
    redeemed: member.lifetimeRedeemed,
    spend: member.lifetimeSpend,
    orders: member.ordersCount,
  };
  const delta = {
    balance: -member.pointsBalance,
    debt: -member.pointsDebt,
    earned: -lifetime.earned,
    redeemed: -lifetime.redeemed,
    spend: -lifetime.spend,
    orders: -lifetime.orders,
  };
  const tombstone = {
    status: "merged" as const,
    mergedInto: input.targetId,
    tierId: null,
    assignedTierId: null,
    assignedTierUntil: null,
    inactivityExpiresAt: null,
  };
  return {
    status: 200,
    body: {
      mergeId: input.mergeId,
      memberId: scope.memberId,
      targetId: input.targetId,
      entryId: e.row.id,
      balance: member.pointsBalance,
      debt: member.pointsDebt,
      lots: moved,
      lifetime,
      firstPurchaseAt: member.firstPurchaseAt,
      lastPurchaseAt: member.lastPurchaseAt,
      lastActivityAt: member.lastActivityAt,
      tier: {
        tierId: member.tierId,
        tierSince: member.tierSince,
        tierSecuredUntil: member.tierSecuredUntil,
        assignedTierId: member.assignedTierId,
        assignedTierUntil: member.assignedTierUntil,
      },
    },
    statements: [
      e.statement,
      ...consumeLots(scope, e.row.id, takes),
      memberDelta(scope, delta, tombstone),
      scope.db
        .update(memberMerges)
        .set({ status: "crediting", updatedAt: scope.now })
        .where(and(eq(memberMerges.id, input.mergeId), eq(memberMerges.status, "debiting"))) as Statement,
    ],
  };
}

const earliest = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);
const latest = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** Consent: a channel stays allowed only if both members allowed it (the most restrictive wins). */
const strictestConsent = (a: Consent, b: Consent): Consent => ({
  email: a.email && b.email,
  sms: a.sms && b.sms,
  push: a.push && b.push,
  line: a.line && b.line,
  wechat: a.wechat && b.wechat,
});

/**
 * Step 2, in the target's Durable Object, one batch: a `merge` entry credits what step 1 took,
 * the lots arrive as new lots of the target with their original dates (available, expiry,
 * order), the lifetime figures add up, orders, referrals and partner links move, consent takes
 * the stricter of the two, tags and empty profile fields fill from the source, the higher tier
 * stays, the tombstone's personal data goes, and the merge record completes — with the
 * `member.merged` event and the audit row. A source below zero (a program allowing it) takes
 * what it owed from the target's available lots.
 */
export async function planMergeIn(
  scope: WriteScope,
  input: { mergeId: string; out: MergeOutResult; actor: MergeActor },
): Promise<Plan<MergeResult>> {
  const { out } = input;
  const sourceId = out.memberId;
  const { member: target } = await loadProgramAndMember(scope);
  if (target.status === "merged") throw mergedError(target.mergedInto);
  if (target.status === "erased") throw new AppError("member_erased", "Cannot merge into an erased member");
  const [[source], tierRows, [{ orderCount }], targetLots] = await Promise.all([
    scope.db
      .select()
      .from(members)
      .where(and(eq(members.programId, scope.programId), eq(members.id, sourceId)))
      .limit(1),
    scope.db
      .select({ id: tiers.id, rank: tiers.rank })
      .from(tiers)
      .where(
        inArray(
          tiers.id,
          [target.tierId, out.tier.tierId].filter((t): t is string => t !== null),
        ),
      ),
    scope.db
      .select({ orderCount: sql<number>`count(*)` })
      .from(orders)
      .where(and(eq(orders.programId, scope.programId), eq(orders.memberId, sourceId))),
    scope.db
      .select()
      .from(pointLots)
      .where(and(eq(pointLots.memberId, scope.memberId), gt(pointLots.remaining, 0), eq(pointLots.released, 1))),
  ]);
  if (!source) throw notFound("Member");

  const e = entry(scope, {
    type: "merge",
    points: out.balance,
    debt: out.debt,
    reason: "Merged from another member",
    sourceType: "merge",
    sourceId: input.mergeId,
    metadata: { sourceId },
  });
  const copies: MergeLot[] = out.lots.map((l) => ({ ...l, id: newId("lot") }));
  const lotsSum = out.lots.reduce((s, l) => s + l.points, 0);
  // A balance above its lots (none should be) still arrives backed by a lot, available now.
  if (out.balance > lotsSum)
    copies.push({
      id: newId("lot"),
      points: out.balance - lotsSum,
      availableAt: scope.now,
      released: 1,
      expiresAt: null,
      expiryKind: "date",
      orderId: null,
      createdAt: scope.now,
    });
  const statements: Statement[] = [
    e.statement,
    ...(copies.length > 0
      ? [
          scope.db.insert(pointLots).values(
            copies.map((l) => ({
              id: l.id,
              programId: scope.programId,
              memberId: scope.memberId,
              entryId: e.row.id,
              orderId: l.orderId,
              points: l.points,
              remaining: l.points,
              availableAt: l.availableAt,
              released: l.released,
              expiresAt: l.expiresAt,
              expiryKind: l.expiryKind,
              createdAt: l.createdAt,
            })),
          ) as Statement,
        ]
      : []),
  ];
  // The source was below zero: what it owed comes off the target's available lots (first to
  // expire first, the moved ones included); the rest stays below zero, as it was.
  const owed = lotsSum - out.balance;
  if (owed > 0) {
    const spendable: LotForAllocation[] = [
      ...targetLots.map((l) => ({ id: l.id, remaining: l.remaining, released: l.released, expiresAt: l.expiresAt, orderId: l.orderId })),
      ...copies.filter((l) => l.released === 1).map((l) => ({ ...l, remaining: l.points })),
    ]
      .filter((l) => l.expiresAt === null || l.expiresAt > scope.now)
      .sort(byExpiry);
    statements.push(...consumeLots(scope, e.row.id, allocate(spendable, owed).takes));
  }

  const rankOf = (id: string | null) => tierRows.find((t) => t.id === id)?.rank ?? -1;
  const sourceTierWins = out.tier.tierId !== null && rankOf(out.tier.tierId) > rankOf(target.tierId);
  const tags = [...new Set([...target.tags, ...source.tags])].slice(0, FREE_FORM_LIMITS.memberTags);
  const attributes = Object.fromEntries(
    Object.entries({ ...source.attributes, ...target.attributes }).slice(0, FREE_FORM_LIMITS.memberAttributes),
  );
  const fill = <K extends "email" | "phone" | "phoneE164" | "name" | "birthday">(k: K): MemberRow[K] => target[k] ?? source[k];
  const extra: Partial<Record<keyof MemberRow, unknown>> = {
    consent: strictestConsent(target.consent, source.consent),
    tags,
    attributes,
    email: fill("email"),
    phone: target.phone ?? source.phone,
    phoneE164: target.phone ? target.phoneE164 : source.phoneE164,
    name: fill("name"),
    birthday: fill("birthday"),
    referredBy: target.referredBy ?? (source.referredBy === scope.memberId ? null : source.referredBy),
    firstPurchaseAt: earliest(target.firstPurchaseAt, out.firstPurchaseAt),
    lastPurchaseAt: latest(target.lastPurchaseAt, out.lastPurchaseAt),
    lastActivityAt: latest(target.lastActivityAt, out.lastActivityAt),
    // Inactivity lots moved in expire with the member's deadline: the later of the two members'.
    inactivityExpiresAt: latest(target.inactivityExpiresAt, source.inactivityExpiresAt),
    ...(sourceTierWins ? out.tier : {}),
  };
  const delta = {
    balance: out.balance,
    debt: out.debt,
    earned: out.lifetime.earned,
    redeemed: out.lifetime.redeemed,
    spend: out.lifetime.spend,
    orders: out.lifetime.orders,
  };
  const result: MergeResult = {
    id: input.mergeId,
    memberId: scope.memberId,
    mergedFrom: sourceId,
    status: "completed",
    pointsMoved: out.balance,
    debtMoved: out.debt,
    lotsMoved: out.lots.length,
    ordersMoved: Number(orderCount),
    tierId: sourceTierWins ? out.tier.tierId : target.tierId,
    completedAt: scope.now,
  };
  const { programId, memberId: targetId, db } = scope;
  const auditCtx = {
    env: undefined as never,
    db,
    requestId: input.actor.requestId,
    principal: {
      programId,
      // A merge finished by the resume job has no key: the audit row says so (null).
      keyId: input.actor.keyId as string,
      scope: "admin" as const,
      ...(input.actor.staffEmail ? { staff: { email: input.actor.staffEmail, role: "admin" as const } } : {}),
    },
  };
  statements.push(
    memberDelta(scope, delta, extra),
    db.run(sql`UPDATE orders SET member_id = ${targetId} WHERE program_id = ${programId} AND member_id = ${sourceId}`) as Statement,
    // Referrals between the two stay where they are (a member cannot refer themself); a referee
    // row moves only if the target has none (one per referee).
    db.run(
      sql`UPDATE referrals SET referrer_id = ${targetId} WHERE program_id = ${programId} AND referrer_id = ${sourceId} AND referee_id <> ${targetId}`,
    ) as Statement,
    db.run(sql`UPDATE referrals SET referee_id = ${targetId} WHERE program_id = ${programId} AND referee_id = ${sourceId}
      AND referrer_id <> ${targetId} AND NOT EXISTS (SELECT 1 FROM referrals WHERE referee_id = ${targetId})`) as Statement,
    // A partner that touched either member may read the merged one.
    db.run(sql`INSERT INTO partner_members (program_id, partner, member_id, created_at)
      SELECT program_id, partner, ${targetId}, ${scope.now} FROM partner_members WHERE program_id = ${programId} AND member_id = ${sourceId}
      ON CONFLICT DO NOTHING`) as Statement,
    // The tombstone keeps only what redirects (its ids): its profile now lives on the target.
    db
      .update(members)
      .set({
        email: null,
        phone: null,
        phoneE164: null,
        name: null,
        birthday: null,
        attributes: {},
        tags: [],
        consent: { email: false, sms: false, push: false, line: false, wechat: false },
        updatedAt: scope.now,
      })
      .where(eq(members.id, sourceId)) as Statement,
    db
      .update(memberMerges)
      .set({ status: "completed", result, updatedAt: scope.now })
      .where(eq(memberMerges.id, input.mergeId)) as Statement,
    outbox(scope, "member.merged", {
      mergedFrom: sourceId,
      mergeId: input.mergeId,
      pointsMoved: out.balance,
      debtMoved: out.debt,
      lotsMoved: out.lots.length,
      ordersMoved: result.ordersMoved,
      tierId: result.tierId,
    }),
    auditStatement(auditCtx, {
      action: "member.merged",
      entityType: "member",
      entityId: targetId,
      before: { mergedFrom: sourceId },
      after: { mergeId: input.mergeId, pointsMoved: out.balance, lotsMoved: out.lots.length, ordersMoved: result.ordersMoved },
    }) as Statement,
  );
  return { status: 200, body: result, statements };
}
