import { sql } from "drizzle-orm";
import type { CronJobArgs } from "../../cron/job";
import { database } from "../../db/client";
import { birthdaysCelebratedOn } from "../../domain/local-time";
import { markRan, programsDueToday } from "../program/local-day";
import { awardTrigger } from "./trigger-awards";

const JOB = "rules.birthday";

/**
 * Birthday earning rules: members whose birthday is the program's local date earn through
 * their ledger, once per year (the occurrence key is the local year). Runs hourly and acts
 * for each program with an active birthday rule once its local day has begun; a 29 February
 * birthday is celebrated on 28 February in other years (as birthday campaigns do).
 */
export async function awardBirthdays({ env, now, batchSize }: CronJobArgs) {
  const db = database(env);
  const withRule = await db.all<{ id: string }>(sql`
    SELECT DISTINCT program_id AS id FROM earning_rules
    WHERE active = 1 AND json_extract(definition, '$.trigger.type') = 'birthday'`);
  const due = await programsDueToday(
    db,
    JOB,
    withRule.map((r) => r.id),
    now,
  );
  let awarded = 0;
  for (const program of due) {
    const monthDays = birthdaysCelebratedOn(program.day);
    const year = program.day.slice(0, 4);
    for (let afterId = ""; ; ) {
      const page = await db.all<{ id: string }>(sql`
        SELECT m.id AS id FROM members m
        WHERE m.program_id = ${program.programId} AND m.id > ${afterId} AND m.status = 'active'
          AND substr(m.birthday, 6, 5) IN (${sql.join(
            monthDays.map((d) => sql`${d}`),
            sql`, `,
          )})
        ORDER BY m.id LIMIT ${batchSize}`);
      if (page.length === 0) break;
      afterId = page[page.length - 1].id;
      const results = await Promise.all(
        page.map((m) => awardTrigger(env, { programId: program.programId, memberId: m.id, kind: "birthday", year })),
      );
      awarded += results.filter((r) => r.ok && !r.replayed).length;
      if (page.length < batchSize) break;
    }
    await markRan(db, JOB, program, now);
  }
  return { programs: due.length, awarded };
}
