import { sql } from "drizzle-orm";
import type { CronJobArgs } from "../../cron/job";
import { database } from "../../db/client";
import { awardTrigger } from "./trigger-awards";

/**
 * Birthday earning rules: members whose birthday is today (UTC) earn through their ledger,
 * once per year (the occurrence key is the year). Only programs with an active birthday rule.
 */
export async function awardBirthdays({ env, now, batchSize }: CronJobArgs) {
  const db = database(env);
  const monthDay = now.toISOString().slice(5, 10);
  const year = now.toISOString().slice(0, 4);
  let awarded = 0;
  // Storage (rowid) order: a sequential pass over the table rather than one table page per
  // member in id order. The cursor lives only within this run; awards are idempotent (the
  // occurrence key is the year), so a VACUUM mid-run renumbering rowids is harmless.
  for (let afterRowid = 0; ; ) {
    const due = await db.all<{ rid: number; id: string; programId: string }>(sql`
        SELECT m.rowid AS rid, m.id AS id, m.program_id AS programId FROM members m
        WHERE m.rowid > ${afterRowid} AND m.status = 'active' AND substr(m.birthday, 6, 5) = ${monthDay}
          AND EXISTS (SELECT 1 FROM earning_rules r WHERE r.program_id = m.program_id AND r.active = 1 AND json_extract(r.definition, '$.trigger.type') = 'birthday')
        ORDER BY m.rowid LIMIT ${batchSize}`);
    if (due.length === 0) break;
    afterRowid = Number(due[due.length - 1].rid);
    const results = await Promise.all(
      due.map((m) => awardTrigger(env, { programId: m.programId, memberId: m.id, kind: "birthday", year })),
    );
    awarded += results.filter((r) => r.ok && !r.replayed).length;
    if (due.length < batchSize) break;
  }
  return { awarded };
}
