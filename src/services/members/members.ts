import { and, eq, notInArray, sql } from "drizzle-orm";
import { members, outboxEvents, segmentMembers, tiers } from "../../../schema";
import type { Consent } from "../../../schema/members";
import { FREE_FORM_LIMITS, overLimitMessage } from "../../domain/members/free-form";
import { mergedError } from "../../ledger/operations/merge";
import { unwrap } from "../../ledger/result";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId, randomBase32 } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { memberLedger } from "../ledger/write";
import { referralStatement, rejectOverCap } from "../referrals/referrals";
import { eraseMemberData } from "./erasure";
import { phoneE164For } from "./phone";
import { type MemberRow, type MemberView, storefrontBenefits, toMemberView } from "./view";

export type RegisterMemberInput = {
  externalId: string;
  email?: string;
  phone?: string;
  name?: string;
  birthday?: string;
  attributes?: Record<string, unknown>;
  tags?: string[];
  consent?: Partial<Consent>;
  referralCode?: string;
  acquisitionChannel?: string;
};

const noConsent: Consent = { email: false, sms: false, push: false, line: false, wechat: false };

function memberSelect(ctx: ServiceContext) {
  return ctx.db
    .select({ member: members, tierName: tiers.name, tierRank: tiers.rank, tierVersion: tiers.version, tierDefinition: tiers.definition })
    .from(members)
    .leftJoin(tiers, eq(tiers.id, members.tierId));
}

type MemberSelectRow = {
  member: MemberRow;
  tierName: string | null;
  tierRank: number | null;
  tierVersion: number | null;
  tierDefinition: Record<string, unknown> | null;
};

function view(row: MemberSelectRow, segments: string[] = []): MemberView {
  const tier =
    row.member.tierId && row.tierName != null
      ? {
          id: row.member.tierId,
          name: row.tierName,
          rank: row.tierRank ?? 0,
          version: row.tierVersion ?? 1,
          benefits: storefrontBenefits(row.tierDefinition),
        }
      : null;
  return toMemberView(row.member, tier, segments);
}

/** One indexed read: member + tier name, scoped to the caller's program. */
export async function getMember({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; withSegments?: boolean };
}) {
  const memberQuery = memberSelect(ctx)
    .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId)))
    .limit(1);
  // With segments: both reads in one batch, one round trip (the storefront's hot path).
  const [rows, segmentRows] = input.withSegments
    ? await ctx.db.batch([
        memberQuery,
        ctx.db.select({ id: segmentMembers.segmentId }).from(segmentMembers).where(eq(segmentMembers.memberId, input.memberId)),
      ])
    : [await memberQuery, []];
  const [row] = rows;
  if (!row) throw notFound("Member");
  return view(
    row,
    segmentRows.map((s) => s.id),
  );
}

export async function findMemberByExternalId({ ctx, input }: { ctx: ServiceContext; input: { programId: string; externalId: string } }) {
  const [row] = await memberSelect(ctx)
    .where(and(eq(members.programId, input.programId), eq(members.externalId, input.externalId)))
    .limit(1);
  if (!row) throw notFound("Member");
  return view(row);
}

/** After a change made outside the member's ledger: the next lookup reads the database. */
async function forgetCachedView(ctx: ServiceContext, programId: string, memberId: string) {
  if (ctx.env.MEMBER_LEDGER) await memberLedger(ctx.env, programId, memberId).forget();
}

/** The raw row, for services that need balances or flags; 404 outside the program. */
export async function requireMemberRow(ctx: ServiceContext, programId: string, memberId: string): Promise<MemberRow> {
  const [row] = await ctx.db
    .select()
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.id, memberId)))
    .limit(1);
  if (!row) throw notFound("Member");
  return row;
}

/**
 * Idempotent on (program, externalId): a second registration returns the existing member.
 * The insert and its `member.created` event commit together; a concurrent duplicate loses
 * on the unique index and reads the winner.
 */
export async function registerMember({ ctx, input }: { ctx: ServiceContext; input: RegisterMemberInput & { programId: string } }) {
  const existing = await ctx.db
    .select({ id: members.id, mergedInto: members.mergedInto })
    .from(members)
    .where(and(eq(members.programId, input.programId), eq(members.externalId, input.externalId)))
    .limit(1);
  // A customer id whose member was merged away registers as the member it joined.
  if (existing[0])
    return {
      created: false,
      member: await getMember({ ctx, input: { programId: input.programId, memberId: existing[0].mergedInto ?? existing[0].id } }),
    };

  const now = nowIso();
  const id = newId("mem");
  const referral = input.referralCode ? await resolveReferrer(ctx, input.programId, input.referralCode) : null;
  const insert = ctx.db
    .insert(members)
    .values({
      id,
      programId: input.programId,
      externalId: input.externalId,
      email: input.email ?? null,
      phone: input.phone ?? null,
      phoneE164: await phoneE164For(ctx, input.programId, input.phone),
      name: input.name ?? null,
      birthday: input.birthday ?? null,
      attributes: input.attributes ?? {},
      tags: [...new Set(input.tags ?? [])],
      consent: { ...noConsent, ...input.consent },
      referralCode: randomBase32(8).toUpperCase(),
      referredBy: referral?.id ?? null,
      acquisitionChannel: input.acquisitionChannel ?? (referral ? "referral" : null),
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  const event = ctx.db.insert(outboxEvents).values({
    id: newId("evt"),
    programId: input.programId,
    memberId: id,
    type: "member.created",
    payload: { memberId: id, externalId: input.externalId, referredBy: referral?.id ?? null },
    createdAt: now,
  });
  // With a referral code: the referrals row (fraud guards refuse with 409 referral_rejected).
  const referralInsert = referral
    ? await referralStatement(ctx, {
        programId: input.programId,
        referrerId: referral.id,
        refereeId: id,
        email: input.email,
        phone: input.phone,
        now,
      })
    : null;
  // The event is only written if the member row was: guard it on the row's existence.
  const [inserted] = await ctx.db
    .batch([insert.returning({ id: members.id }), event, ...(referralInsert ? [referralInsert.statement] : [])])
    .catch(rejectOverCap);
  if (inserted.length === 0) {
    // Lost a race with a concurrent registration of the same externalId: remove our event.
    await ctx.db.delete(outboxEvents).where(and(eq(outboxEvents.memberId, id), eq(outboxEvents.type, "member.created")));
    return registerMember({ ctx, input });
  }
  return { created: true, member: await getMember({ ctx, input: { programId: input.programId, memberId: id } }) };
}

async function resolveReferrer(ctx: ServiceContext, programId: string, code: string) {
  const [referrer] = await ctx.db
    .select({ id: members.id, status: members.status })
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.referralCode, code.toUpperCase())))
    .limit(1);
  if (referrer?.status !== "active") throw new AppError("referral_rejected", "Unknown or inactive referral code");
  return referrer;
}

export type UpdateMemberInput = Partial<Omit<RegisterMemberInput, "externalId" | "referralCode" | "tags">> & {
  status?: "active" | "blocked";
};

export async function updateMember({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; patch: UpdateMemberInput };
}) {
  const row = await requireMemberRow(ctx, input.programId, input.memberId);
  if (row.status === "erased") throw memberErased();
  if (row.status === "merged") throw mergedError(row.mergedInto);
  const { consent, attributes, ...rest } = input.patch;
  const phoneE164 = rest.phone === undefined ? {} : { phoneE164: await phoneE164For(ctx, input.programId, rest.phone) };
  // Attributes merge; a null value removes the key. The merged map is capped, not just the patch.
  const mergedAttributes = attributes
    ? Object.fromEntries(Object.entries({ ...row.attributes, ...attributes }).filter(([, v]) => v !== null))
    : null;
  if (mergedAttributes && Object.keys(mergedAttributes).length > FREE_FORM_LIMITS.memberAttributes)
    throw overLimit("attributes", FREE_FORM_LIMITS.memberAttributes);
  const update = ctx.db
    .update(members)
    .set({
      ...rest,
      ...phoneE164,
      ...(consent ? { consent: { ...row.consent, ...consent } } : {}),
      ...(mergedAttributes ? { attributes: mergedAttributes } : {}),
      updatedAt: nowIso(),
    })
    // An erasure or merge that committed since the read wins: nothing is written back.
    .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId), notInArray(members.status, ["erased", "merged"])))
    .returning({ id: members.id });
  // Admin writes (blocking above all) are audited by field name only: no personal data in the log.
  const audit =
    ctx.principal?.scope === "admin"
      ? [
          auditStatement(ctx, {
            action:
              input.patch.status === "blocked" && row.status !== "blocked"
                ? "member.blocked"
                : input.patch.status === "active" && row.status !== "active"
                  ? "member.unblocked"
                  : "member.updated",
            entityType: "member",
            entityId: row.id,
            before: { status: row.status },
            after: { status: input.patch.status ?? row.status, fields: Object.keys(input.patch) },
          }),
        ]
      : [];
  const [updated] = await ctx.db.batch([update, ...audit]);
  if (updated.length === 0) throw memberErased();
  await forgetCachedView(ctx, input.programId, row.id);
  return getMember({ ctx, input });
}

/**
 * Tags merge in SQL from the row's current value (removals from what is there, then additions,
 * first-seen order, no duplicates), so concurrent changes keep each other's tags; the write
 * only happens if the result stays within the cap and the member is not erased.
 */
export async function changeTags({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; add: string[]; remove: string[] };
}) {
  const row = await requireMemberRow(ctx, input.programId, input.memberId);
  if (row.status === "erased") throw memberErased();
  if (row.status === "merged") throw mergedError(row.mergedInto);
  const max = FREE_FORM_LIMITS.memberTags;
  const merged = sql`(SELECT json_group_array(value) FROM (
    SELECT value FROM (
      SELECT value, MIN(position) AS position FROM (
        SELECT value, CAST(key AS INTEGER) AS position FROM json_each(${members.tags})
          WHERE value NOT IN (SELECT value FROM json_each(${JSON.stringify(input.remove)}))
        UNION ALL SELECT value, 1000000 + CAST(key AS INTEGER) FROM json_each(${JSON.stringify(input.add)})
      ) GROUP BY value
    ) ORDER BY position))`;
  const updated = await ctx.db
    .update(members)
    .set({ tags: merged, updatedAt: nowIso() })
    .where(and(eq(members.id, row.id), notInArray(members.status, ["erased", "merged"]), sql`json_array_length(${merged}) <= ${max}`))
    .returning({ id: members.id });
  if (updated.length === 0) {
    if ((await requireMemberRow(ctx, input.programId, input.memberId)).status === "erased") throw memberErased();
    throw overLimit("tags", max);
  }
  await forgetCachedView(ctx, input.programId, row.id);
  return getMember({ ctx, input });
}

const memberErased = () => new AppError("member_erased", "Member has been erased; their profile cannot change");
const overLimit = (what: "tags" | "attributes", max: number) =>
  new AppError("invalid_request", overLimitMessage(what, max), { limit: what, max });

/**
 * GDPR-style erasure (see services/erasure.ts for what it touches): personal data goes, the
 * ledger and balances stay so the books still balance. It runs in the member's Durable Object,
 * in turn with their ledger writes; without that binding (the import CLI) straight on the database.
 */
export async function eraseMember({ ctx, input }: { ctx: ServiceContext; input: { programId: string; memberId: string } }) {
  await requireMemberRow(ctx, input.programId, input.memberId);
  const actor = { keyId: ctx.principal?.keyId ?? null, requestId: ctx.requestId };
  if (ctx.env.MEMBER_LEDGER) unwrap(await memberLedger(ctx.env, input.programId, input.memberId).erase({ ...input, actor }));
  else await eraseMemberData(ctx.db, { ...input, actor });
  return getMember({ ctx, input });
}
