import { sql } from "drizzle-orm";
import type { CronJobArgs } from "../../cron/job";
import { database } from "../../db/client";
import { addLocalDays, birthdaysCelebratedOn, localDate, wholeYearsBetween } from "../../domain/local-time";
import type { Env } from "../../env";
import { systemKeys } from "../../ledger/system-keys";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { markRan, programsDueToday } from "../program/local-day";
import { awardTrigger } from "../rules/trigger-awards";

const GIFTS_JOB = "tiers.birthday-gifts";
const ANNIVERSARY_JOB = "rules.anniversary";

/**
 * Tier birthday gifts: on a member's birthday (the program's local date; 29 February celebrated on
 * 28 February in other years, as the birthday bonus), a member whose tier names a catalog reward as
 * `benefits.birthdayGift` receives it as a coupon through their ledger, once per local year (the
 * system key names the year). Hourly, acting once per program per local day.
 */
export async function issueTierBirthdayGifts({ env, now, batchSize }: CronJobArgs, only?: { programId: string }) {
  const db = database(env);
  const giftTiers = await db.all<{ id: string; programId: string }>(sql`
    SELECT id, program_id AS programId FROM tiers WHERE json_extract(definition, '$.benefits.birthdayGift.rewardId') IS NOT NULL`);
  const programIds = [...new Set(giftTiers.map((t) => t.programId))].filter((id) => !only || id === only.programId);
  const due = await programsDueToday(db, GIFTS_JOB, programIds, now);
  let issued = 0;
  for (const program of due) {
    const tierIds = giftTiers.filter((t) => t.programId === program.programId).map((t) => t.id);
    const monthDays = birthdaysCelebratedOn(program.day);
    const year = program.day.slice(0, 4);
    for (let afterId = ""; ; ) {
      const page = await db.all<{ id: string }>(sql`
        SELECT m.id AS id FROM members m
        WHERE m.program_id = ${program.programId} AND m.id > ${afterId} AND m.status = 'active'
          AND m.tier_id IN (${sql.join(
            tierIds.map((id) => sql`${id}`),
            sql`, `,
          )})
          AND substr(m.birthday, 6, 5) IN (${sql.join(
            monthDays.map((d) => sql`${d}`),
            sql`, `,
          )})
        ORDER BY m.id LIMIT ${batchSize}`);
      if (page.length === 0) break;
      afterId = page[page.length - 1].id;
      const results = await Promise.all(
        page.map((m) => issueTierBirthdayGift(env, { programId: program.programId, memberId: m.id, year })),
      );
      // A member whose tier changed meanwhile (409), or a gift out of stock, gets none this year.
      issued += results.filter((r) => r.ok && !r.replayed).length;
      if (page.length < batchSize) break;
    }
    await markRan(db, GIFTS_JOB, program, now);
  }
  return { programs: due.length, issued };
}

/** One member's tier birthday gift for local `year`, through their ledger under its system key (a retry is a replay). */
export async function issueTierBirthdayGift(env: Env, input: { programId: string; memberId: string; year: string }) {
  const body = { occasion: `birthday:${input.year}` };
  const req = await systemWriteRequest({
    programId: input.programId,
    memberId: input.memberId,
    idempotencyKey: systemKeys.tierGift(input.memberId, input.year),
    operation: "tier.gift",
    body,
  });
  return memberLedger(env, input.programId, input.memberId).issueTierGift(req, body);
}

/**
 * Membership anniversaries: on the local anniversary of joining (29 February joiners on
 * 28 February in other years), each member's anniversary milestone rules are evaluated through
 * their ledger (a rule for the nth year awards once, the first year it is reached). Candidates
 * are found by the UTC join date within a day of the local one, then checked on the local date.
 */
export async function awardAnniversaries({ env, now, batchSize }: CronJobArgs, only?: { programId: string }) {
  const db = database(env);
  const withRule = await db.all<{ id: string }>(sql`
    SELECT DISTINCT program_id AS id FROM earning_rules
    WHERE active = 1 AND json_extract(definition, '$.trigger.milestone.kind') = 'anniversary'`);
  const due = await programsDueToday(
    db,
    ANNIVERSARY_JOB,
    withRule.map((r) => r.id).filter((id) => !only || id === only.programId),
    now,
  );
  let awarded = 0;
  for (const program of due) {
    const year = program.day.slice(0, 4);
    const today = new Set(birthdaysCelebratedOn(program.day));
    // A local date is within a day of the UTC date of any instant on it.
    const utcMonthDays = [
      ...new Set([addLocalDays(program.day, -1), program.day, addLocalDays(program.day, 1)].map((d) => d.slice(5, 10))),
    ];
    if (today.has("02-29")) utcMonthDays.push("02-29", "03-01");
    for (let afterId = ""; ; ) {
      const page = await db.all<{ id: string; createdAt: string }>(sql`
        SELECT m.id AS id, m.created_at AS createdAt FROM members m
        WHERE m.program_id = ${program.programId} AND m.id > ${afterId} AND m.status = 'active'
          AND substr(m.created_at, 6, 5) IN (${sql.join(
            utcMonthDays.map((d) => sql`${d}`),
            sql`, `,
          )})
        ORDER BY m.id LIMIT ${batchSize}`);
      if (page.length === 0) break;
      afterId = page[page.length - 1].id;
      const celebrating = page.filter((m) => {
        const joined = localDate(m.createdAt, program.timeZone);
        return today.has(joined.slice(5, 10)) && wholeYearsBetween(joined, program.day) >= 1;
      });
      const results = await Promise.all(
        celebrating.map((m) => awardTrigger(env, { programId: program.programId, memberId: m.id, kind: "anniversary", year })),
      );
      awarded += results.filter((r) => r.ok && !r.replayed).length;
      if (page.length < batchSize) break;
    }
    await markRan(db, ANNIVERSARY_JOB, program, now);
  }
  return { programs: due.length, awarded };
}
