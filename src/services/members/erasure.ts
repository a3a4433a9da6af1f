import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type entryTypes, erasedMembers, members } from "../../../schema";
import type { Consent } from "../../../schema/members";
import type { Database } from "../../db/client";
import { notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";

/**
 * GDPR-style erasure. The member's personal data goes from every table that holds a copy of
 * it; the facts the books need stay (ledger entries and their points, lots and which lots a
 * debit used, orders, coupons, referrals, rule usage), so Σ ledger = balance still holds.
 *
 * | table | what erasure does |
 * | --- | --- |
 * | members | profile, contact, attributes, tags, consent, feedback tags and scores cleared; external id → `erased:<id>` |
 * | erased_members | a tombstone (program, member, when): no personal data |
 * | ledger_entries | free-text reasons replaced by a neutral one; personal keys (attributes…) removed from metadata |
 * | ledger_requests | stored answers replaced by `{memberId, redacted: true}` (status kept, so a replay still replays) |
 * | partner_events | stored results of the member's events replaced the same way (a `member.erase` keeps its own) |
 * | outbox_events, webhook_deliveries | personal keys (externalId, reason…) removed from the payloads |
 * | messages | rendered body emptied; unsent ones are not sent |
 * | campaign_occurrences | trigger context dropped |
 * | feedback | free text and tags dropped (kind, score, time stay) |
 * | audit_log | personal keys removed from the member's entries |
 * | segment_members | the member's memberships removed |
 * | redemptions | the client's free-text reason replaced |
 *
 * Everything is one batch (all or nothing), and every statement is idempotent, so the same
 * statements re-apply after a restore or when a write that was in flight lands afterwards.
 */

/** Keys that carry personal data where a member's facts are copied into JSON. */
const PERSONAL_KEYS = ["externalId", "email", "phone", "name", "birthday", "attributes", "tags", "consent", "reason", "text", "body"];

const noConsent: Consent = { email: false, sms: false, push: false, line: false, wechat: false };

/** What an erased member's entries say instead of a reason that may have been free text. */
const NEUTRAL_REASON: Record<(typeof entryTypes)[number], string> = {
  earn: "Points earned",
  redeem: "Points redeemed",
  expire: "Points expired",
  adjust: "Adjustment",
  reverse: "Points reversed",
  debt: "Points debt repaid",
  return: "Points returned",
  merge: "Points moved by a member merge",
};

/** The body a stored answer (ledger request, partner event) keeps once its member is erased. */
const redactedAnswer = (memberColumn: SQL) => sql`json_object('memberId', ${memberColumn}, 'redacted', json('true'))`;

/** `json_remove(column, '$.<prefix>externalId', …)`: the JSON with the personal keys at that level gone. */
function withoutPersonalKeys(column: SQL, prefix = "") {
  const paths = sql.join(
    PERSONAL_KEYS.map((k) => sql`${`$.${prefix}${k}`}`),
    sql`, `,
  );
  return sql`json_remove(${column}, ${paths})`;
}

export type ErasureActor = { keyId: string | null; requestId: string };

type Statement = BatchItem<"sqlite">;

/** The statements that scrub one member everywhere, safe to run again at any time. */
function scrubStatements(db: Database, input: { programId: string; memberId: string; now: string }): Statement[] {
  const { programId, memberId, now } = input;
  const reason = sql.join(
    Object.entries(NEUTRAL_REASON).map(([type, text]) => sql`WHEN ${type} THEN ${text}`),
    sql` `,
  );
  return [
    db
      .update(members)
      .set({
        status: "erased",
        externalId: sql`'erased:' || ${members.id}`,
        email: null,
        phone: null,
        phoneE164: null,
        name: null,
        birthday: null,
        attributes: {},
        tags: [],
        consent: noConsent,
        feedbackTags: [],
        lastNps: null,
        rfmR: null,
        rfmF: null,
        rfmM: null,
        valueSegment: null,
        churnProbability: null,
        expectedPurchases90d: null,
        expectedOrderValue: null,
        clv12m: null,
        scoredAt: null,
        erasedAt: sql`COALESCE(${members.erasedAt}, ${now})`,
        updatedAt: now,
      })
      .where(and(eq(members.programId, programId), eq(members.id, memberId))),
    db.run(sql`UPDATE ledger_entries SET reason = CASE type ${reason} ELSE 'Redacted' END,
      metadata = CASE WHEN metadata IS NULL THEN NULL ELSE ${withoutPersonalKeys(sql`metadata`)} END
      WHERE member_id = ${memberId} AND program_id = ${programId}`),
    db.run(sql`UPDATE ledger_requests SET response = ${redactedAnswer(sql`member_id`)}
      WHERE member_id = ${memberId} AND program_id = ${programId}`),
    // A member.erase event's own result is the erased member: nothing to redact, and its replay stays as it was.
    db.run(sql`UPDATE partner_events SET result = ${redactedAnswer(sql`member_id`)}
      WHERE member_id = ${memberId} AND program_id = ${programId} AND type <> 'member.erase'`),
    db.run(sql`UPDATE webhook_deliveries SET payload = ${withoutPersonalKeys(sql`payload`, "data.")}
      WHERE webhook_id IN (SELECT id FROM webhooks WHERE program_id = ${programId})
        AND event_id IN (SELECT id FROM outbox_events WHERE member_id = ${memberId})`),
    db.run(sql`UPDATE outbox_events SET payload = ${withoutPersonalKeys(sql`payload`)} WHERE member_id = ${memberId}`),
    db.run(sql`UPDATE messages SET body = '', status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END,
      last_error = CASE WHEN status = 'pending' THEN 'member erased' ELSE last_error END,
      next_attempt_at = CASE WHEN status = 'pending' THEN NULL ELSE next_attempt_at END
      WHERE member_id = ${memberId}`),
    db.run(sql`UPDATE campaign_occurrences SET context = NULL
      WHERE campaign_id IN (SELECT id FROM campaigns WHERE program_id = ${programId}) AND member_id = ${memberId} AND context IS NOT NULL`),
    db.run(sql`UPDATE feedback SET text = NULL, tags = '[]' WHERE member_id = ${memberId} AND program_id = ${programId}`),
    db.run(sql`UPDATE audit_log SET
      before = CASE WHEN before IS NULL THEN NULL ELSE ${withoutPersonalKeys(sql`before`)} END,
      after = CASE WHEN after IS NULL THEN NULL ELSE ${withoutPersonalKeys(sql`after`)} END
      WHERE program_id = ${programId} AND entity_type = 'member' AND entity_id = ${memberId}`),
    db.run(sql`DELETE FROM segment_members WHERE member_id = ${memberId} AND program_id = ${programId}`),
    db.run(sql`UPDATE redemptions SET reason = 'Redemption' WHERE member_id = ${memberId} AND program_id = ${programId}`),
  ];
}

/**
 * Erase one member in one batch: the scrub, the tombstone, and — the first time only (no
 * tombstone yet) — the `member.erased` event and the audit entry. Erasing an erased member
 * re-applies the scrub. 404 outside the program.
 */
export async function eraseMemberData(db: Database, input: { programId: string; memberId: string; actor: ErasureActor }) {
  const { programId, memberId, actor } = input;
  const [row] = await db
    .select({ status: members.status })
    .from(members)
    .where(and(eq(members.programId, programId), eq(members.id, memberId)))
    .limit(1);
  if (!row) throw notFound("Member");
  const now = nowIso();
  const firstTime = sql`NOT EXISTS (SELECT 1 FROM erased_members WHERE program_id = ${programId} AND member_id = ${memberId})`;
  await db.batch([
    db.run(sql`INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
      SELECT ${newId("evt")}, ${programId}, ${memberId}, 'member.erased', json_object('memberId', ${memberId}), ${now} WHERE ${firstTime}`),
    db.run(sql`INSERT INTO audit_log (id, program_id, key_id, action, entity_type, entity_id, before, after, request_id, created_at)
      SELECT ${newId("aud")}, ${programId}, ${actor.keyId}, 'member.erased', 'member', ${memberId},
        json_object('status', ${row.status}), json_object('status', 'erased'), ${actor.requestId}, ${now} WHERE ${firstTime}`),
    db.insert(erasedMembers).values({ programId, memberId, erasedAt: now }).onConflictDoNothing(),
    ...scrubStatements(db, { programId, memberId, now }),
  ]);
  return { memberId, erasedAt: now };
}

/** Re-apply the scrub for members already erased (writes that were in flight during their erasure land after it). */
export async function rescrubErasedMembers(db: Database, erased: Array<{ programId: string; memberId: string }>) {
  if (erased.length === 0) return;
  const now = nowIso();
  await db.batch(erased.flatMap((e) => scrubStatements(db, { ...e, now })) as [Statement, ...Statement[]]);
}
