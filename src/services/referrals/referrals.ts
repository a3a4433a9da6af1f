import { z } from "@hono/zod-openapi";
import { and, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { members, programs, referrals } from "../../../schema";
import type { Database } from "../../db/client";
import { localMonth, localMonthRange } from "../../domain/local-time";
import type { Env } from "../../env";
import { unwrap } from "../../ledger/result";
import { systemKeys } from "../../ledger/system-keys";
import type { ServiceContext } from "../../lib/context";
import { AppError, errorChainText, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { configVersionBump } from "../program/config-version";

/** `programs.settings.referral`: what each side earns, the referrer's monthly cap, the qualifying order. */
export const ReferralSettingsSchema = z
  .object({
    referrerPoints: z
      .number()
      .int()
      .nonnegative()
      .max(1_000_000_000)
      .openapi({ description: "Points for the referrer when the referee's first qualifying purchase lands" }),
    refereePoints: z
      .number()
      .int()
      .nonnegative()
      .max(1_000_000_000)
      .openapi({ description: "Welcome points for the referee, with that purchase" }),
    maxPerMonth: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .nullable()
      .openapi({ description: "Referrals one referrer may make per calendar month (the program's time zone); null = no cap" }),
    minOrderAmount: z
      .number()
      .int()
      .nonnegative()
      .max(1_000_000_000_000)
      .openapi({ description: "A purchase qualifies from this amount (minor units)" }),
  })
  .strict()
  .openapi("ReferralProgram", { example: { referrerPoints: 500, refereePoints: 200, maxPerMonth: 10, minOrderAmount: 3000 } });

export type ReferralSettings = z.infer<typeof ReferralSettingsSchema>;

const noReferralProgram: ReferralSettings = { referrerPoints: 0, refereePoints: 0, maxPerMonth: null, minOrderAmount: 0 };

/** The program's referral settings; an unset program rewards nothing and caps nothing. */
export function referralSettings(settings: Record<string, unknown> | null | undefined): ReferralSettings {
  const parsed = ReferralSettingsSchema.safeParse(settings?.referral);
  return parsed.success ? parsed.data : noReferralProgram;
}

/** The first instant of the program's local month containing `iso`. */
const monthStart = (iso: string, timeZone: string) => localMonthRange(localMonth(iso, timeZone), timeZone).start;

const sameEmail = (a: string | null | undefined, b: string | null | undefined) =>
  !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();
const digits = (p: string) => p.replace(/\D/g, "");
const samePhone = (a: string | null | undefined, b: string | null | undefined) =>
  !!a && !!b && digits(a).length > 0 && digits(a) === digits(b);

/**
 * The `referrals` row for a registration with a referral code, to go in the registration's
 * batch. Refuses (409 referral_rejected) a referee with the referrer's own email or phone
 * and a referrer over the program's monthly cap. The cap is checked here for the message and
 * again inside the INSERT: over the cap the referrer id is NULL, which fails the NOT NULL
 * constraint and with it the whole registration batch, so concurrent sign-ups cannot exceed it.
 * The SELECT … FROM members also writes nothing if the member insert lost a race.
 */
export async function referralStatement(
  ctx: ServiceContext,
  input: { programId: string; referrerId: string; refereeId: string; email?: string | null; phone?: string | null; now: string },
) {
  const [referrerRows, programRows] = await ctx.db.batch([
    ctx.db
      .select({ email: members.email, phone: members.phone })
      .from(members)
      .where(and(eq(members.programId, input.programId), eq(members.id, input.referrerId)))
      .limit(1),
    ctx.db
      .select({ settings: programs.settings, timeZone: programs.timeZone })
      .from(programs)
      .where(eq(programs.id, input.programId))
      .limit(1),
  ]);
  const referrer = referrerRows[0];
  if (!referrer) throw new AppError("referral_rejected", "Unknown or inactive referral code");
  if (sameEmail(referrer.email, input.email))
    throw new AppError("referral_rejected", "Self-referral: the referee's email is the referrer's", { reason: "same_email" });
  if (samePhone(referrer.phone, input.phone))
    throw new AppError("referral_rejected", "Self-referral: the referee's phone is the referrer's", { reason: "same_phone" });
  const { maxPerMonth } = referralSettings(programRows[0]?.settings);
  const since = monthStart(input.now, programRows[0]?.timeZone ?? "UTC");
  const countThisMonth = sql`(SELECT COUNT(*) FROM referrals WHERE referrer_id = ${input.referrerId} AND created_at >= ${since} AND status <> 'rejected')`;
  if (maxPerMonth !== null) {
    const [{ n }] = await ctx.db.all<{ n: number }>(sql`SELECT ${countThisMonth} AS n`);
    if (Number(n) >= maxPerMonth) throw capError(maxPerMonth);
  }
  // Wrapped: returning a drizzle query from an async function would run it right here.
  return {
    statement: ctx.db.run(sql`
    INSERT INTO referrals (id, program_id, referrer_id, referee_id, status, referrer_points, referee_points, created_at)
    SELECT ${newId("ref")}, ${input.programId},
           CASE WHEN ${maxPerMonth} IS NULL OR ${countThisMonth} < ${maxPerMonth} THEN ${input.referrerId} END,
           ${input.refereeId}, 'pending', 0, 0, ${input.now}
    FROM members WHERE id = ${input.refereeId}`),
  };
}

const capError = (max: number | null) =>
  new AppError("referral_rejected", `This referral code has reached its limit of ${max ?? "?"} referrals this month`, {
    reason: "cap_reached",
  });

/** Map the cap guard's NOT NULL failure (a concurrent sign-up took the last slot) to 409 referral_rejected. */
export function rejectOverCap(err: unknown): never {
  if (/NOT NULL constraint failed: referrals\.referrer_id/i.test(errorChainText(err))) throw capError(null);
  throw err;
}

export async function getReferralProgram({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  return referralSettings(row.settings);
}

/** Replace `settings.referral` only (json_set), so other settings written concurrently survive. Audited. */
export async function setReferralProgram({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; settings: ReferralSettings };
}) {
  const before = await getReferralProgram({ ctx, input });
  await ctx.db.batch([
    ctx.db
      .update(programs)
      .set({ settings: sql`json_set(${programs.settings}, '$.referral', json(${JSON.stringify(input.settings)}))`, updatedAt: nowIso() })
      .where(eq(programs.id, input.programId)),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "referral_program.updated",
      entityType: "program",
      entityId: input.programId,
      before,
      after: input.settings,
    }),
  ]);
  return input.settings;
}

export const referralStatuses = ["pending", "qualified", "rewarded", "reversing", "reversed", "rejected"] as const;

export const ReferralSchema = z
  .object({
    id: z.string(),
    referrerId: z.string(),
    refereeId: z.string(),
    status: z.enum(referralStatuses).openapi({
      description:
        "pending → qualified (referee rewarded, referrer being credited) → rewarded; reversing → reversed after a refund of the qualifying order",
    }),
    orderId: z.string().nullable(),
    referrerPoints: z.number().int(),
    refereePoints: z.number().int(),
    createdAt: z.string(),
    rewardedAt: z.string().nullable(),
  })
  .openapi("Referral");

/** A member's referrals (as referrer), newest first, with totals, and who referred them. */
export async function listMemberReferrals({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; limit: number; cursor?: string };
}) {
  const { db } = ctx;
  const [memberRows, page, totals, referredBy] = await db.batch([
    db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId)))
      .limit(1),
    db
      .select()
      .from(referrals)
      .where(
        and(
          eq(referrals.programId, input.programId),
          eq(referrals.referrerId, input.memberId),
          input.cursor ? lt(referrals.id, input.cursor) : undefined,
        ),
      )
      .orderBy(desc(referrals.id))
      .limit(input.limit + 1),
    db
      .select({ status: referrals.status, n: sql<number>`COUNT(*)`, points: sql<number>`COALESCE(SUM(${referrals.referrerPoints}), 0)` })
      .from(referrals)
      .where(and(eq(referrals.programId, input.programId), eq(referrals.referrerId, input.memberId)))
      .groupBy(referrals.status),
    db
      .select()
      .from(referrals)
      .where(and(eq(referrals.programId, input.programId), eq(referrals.refereeId, input.memberId)))
      .limit(1),
  ]);
  if (!memberRows[0]) throw notFound("Member");
  const byStatus = Object.fromEntries(referralStatuses.map((s) => [s, 0])) as Record<(typeof referralStatuses)[number], number>;
  let pointsEarned = 0;
  for (const t of totals) {
    byStatus[t.status] = Number(t.n);
    if (t.status === "rewarded") pointsEarned += Number(t.points);
  }
  return {
    referredBy: referredBy[0] ? referralView(referredBy[0]) : null,
    ...cursorPage(page, input.limit, (r) => r.id, referralView),
    totals: { count: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus, pointsEarned },
  };
}

const referralView = (r: typeof referrals.$inferSelect) => ({
  id: r.id,
  referrerId: r.referrerId,
  refereeId: r.refereeId,
  status: r.status,
  orderId: r.orderId,
  referrerPoints: r.referrerPoints,
  refereePoints: r.refereePoints,
  createdAt: r.createdAt,
  rewardedAt: r.rewardedAt,
});

/** Delay before the next settle attempt after `failures` failed ones: 1 min doubling to 6 h, so a failing row never holds the queue. */
const settleRetryDelayMs = (failures: number) => Math.min(6 * 3_600_000, 60_000 * 2 ** Math.max(0, failures - 1));
/** From this many failed attempts on, each failure is logged as an alert. */
export const SETTLE_ALERT_AFTER = 5;

/**
 * The referrer's side of a referral lives in the referrer's own Durable Object, never in the
 * referee's batch. Every minute: credit referrers of `qualified` referrals and take back from
 * referrers of `reversing` ones, each through the referrer's object with a system key derived
 * from the referral, so a retried tick (at-least-once) applies each exactly once. A referral
 * whose settlement fails is skipped past: its attempt count, next due time (backing off to 6 h)
 * and error are recorded, fresh referrals go first, and repeated failures are logged as alerts.
 */
export async function settleReferrals(env: Env, db: Database, batchSize: number, now = new Date(), scope: { programId?: string } = {}) {
  const at = now.toISOString();
  const due = await db
    .select({
      id: referrals.id,
      programId: referrals.programId,
      referrerId: referrals.referrerId,
      status: referrals.status,
      settleAttempts: referrals.settleAttempts,
    })
    .from(referrals)
    .where(
      and(
        inArray(referrals.status, ["qualified", "reversing"]),
        or(isNull(referrals.settleAfter), lte(referrals.settleAfter, at)),
        scope.programId ? eq(referrals.programId, scope.programId) : undefined,
      ),
    )
    .orderBy(referrals.settleAttempts, referrals.status, referrals.id)
    .limit(batchSize);
  const outcome = { credited: 0, reversed: 0, failed: 0 };
  const settleOne = async (r: (typeof due)[number]) => {
    const operation = r.status === "qualified" ? "referral.credit" : "referral.reverse";
    const body = { referralId: r.id };
    try {
      const req = await systemWriteRequest({
        programId: r.programId,
        memberId: r.referrerId,
        idempotencyKey: systemKeys.referral(r.id, r.status === "qualified" ? "referrer" : "reverse"),
        operation,
        body,
      });
      const ledger = memberLedger(env, r.programId, r.referrerId);
      if (r.status === "qualified") {
        unwrap(await ledger.creditReferral(req, body));
        outcome.credited++;
      } else {
        unwrap(await ledger.reverseReferral(req, body));
        outcome.reversed++;
      }
    } catch (err) {
      // Retried later with the same key; recorded so the next ticks take other referrals first.
      outcome.failed++;
      const attempts = r.settleAttempts + 1;
      const message = String(err).slice(0, 500);
      console.error(
        JSON.stringify({
          level: attempts >= SETTLE_ALERT_AFTER ? "alert" : "error",
          job: "referrals.settle",
          programId: r.programId,
          referralId: r.id,
          attempts,
          message,
        }),
      );
      await db
        .update(referrals)
        .set({
          settleAttempts: attempts,
          settleAfter: new Date(now.getTime() + settleRetryDelayMs(attempts)).toISOString(),
          settleError: message,
        })
        .where(and(eq(referrals.id, r.id), eq(referrals.status, r.status)))
        .catch(() => undefined);
    }
  };
  // A few at a time: each call is one Durable Object round trip and one batch.
  for (let i = 0; i < due.length; i += 8) await Promise.all(due.slice(i, i + 8).map(settleOne));
  return outcome;
}
