import { and, desc, eq, lt, sql } from "drizzle-orm";
import { feedback, members } from "../../../schema";
import { FREE_FORM_LIMITS } from "../../domain/members/free-form";
import { systemKeys } from "../../ledger/system-keys";
import type { ServiceContext } from "../../lib/context";
import { canonicalJson, sha256Hex } from "../../lib/crypto";
import { AppError, errorChainText } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { requireMemberRow } from "../members/members";

export type FeedbackInput = { kind: "nps" | "survey" | "review"; score?: number; text?: string; tags?: string[] };
type FeedbackRow = typeof feedback.$inferSelect;

/** Member feedback tags kept on the member row (for segments): the most recent, at most this many. */
const MAX_MEMBER_TAGS = FREE_FORM_LIMITS.memberTags;

/**
 * The member's feedback tags with `tags` merged in, in SQL from the row's current value — so two
 * concurrent feedbacks cannot lose each other's tags: newest first, no duplicates, bounded.
 */
const mergedTags = (tags: string[]) => sql`(SELECT json_group_array(value) FROM (
  SELECT value FROM (
    SELECT value, MIN(position) AS position FROM (
      SELECT value, CAST(key AS INTEGER) AS position FROM json_each(${JSON.stringify(tags)})
      UNION ALL SELECT value, 1000000 + CAST(key AS INTEGER) FROM json_each(COALESCE(${members.feedbackTags}, '[]'))
    ) GROUP BY value
  ) ORDER BY position LIMIT ${MAX_MEMBER_TAGS}))`;

const view = (r: FeedbackRow) => ({
  id: r.id,
  memberId: r.memberId,
  kind: r.kind,
  score: r.score,
  text: r.text,
  tags: r.tags,
  createdAt: r.createdAt,
});

/** The insert lost to a row with the same (program, request_key): a retry or a concurrent duplicate. */
const isDuplicateKey = (err: unknown) => /UNIQUE constraint failed: feedback\.program_id, feedback\.request_key/i.test(errorChainText(err));

/**
 * Record feedback, idempotent by the request's Idempotency-Key: the row (with the key and a
 * hash of the body), the member's last NPS and feedback tags (which segments can use) in one
 * batch; then, if the program has earning rules for it, the matching activity (an NPS answer
 * is a survey) through the member's ledger, idempotent on feedback:<id>.
 *
 * Optimistic like the ledger: no lookup before writing. A key already used fails the batch on
 * the unique index (so nothing is written twice, the member update included) and the stored
 * row is answered; the earning is asked for again with the stored row, which the ledger
 * replays — or applies, when the first attempt died between the batch and the ledger call.
 */
export async function submitFeedback({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: FeedbackInput & { programId: string; memberId: string; idempotencyKey: string };
}) {
  const { programId, memberId, idempotencyKey, ...body } = input;
  // Same scheme as ledger writes (operation:member:canonical body): the key reused for another member or body conflicts.
  const requestHash = await sha256Hex(`feedback:${memberId}:${canonicalJson(body)}`);
  const replay = () => replayFeedback(ctx, { programId, idempotencyKey, requestHash });

  try {
    const member = await requireMemberRow(ctx, programId, memberId);
    if (member.status === "erased") throw new AppError("member_erased", "Member has been erased; feedback is not accepted");
    if (member.status !== "active") throw new AppError("conflict", `Member is ${member.status}; feedback is not accepted`);
  } catch (err) {
    // A retry of a recorded request gets its original answer even if the member changed since.
    const replayed = await replay();
    if (replayed) return replayed;
    throw err;
  }

  const now = nowIso();
  const tags = [...new Set((body.tags ?? []).map((t) => t.trim()).filter(Boolean))];
  const row: FeedbackRow = {
    id: newId("fb"),
    programId,
    memberId,
    kind: body.kind,
    score: body.score ?? null,
    text: body.text ?? null,
    tags,
    requestKey: idempotencyKey,
    requestHash,
    createdAt: now,
  };
  try {
    await ctx.db.batch([
      ctx.db.insert(feedback).values(row),
      ctx.db
        .update(members)
        .set({
          ...(body.kind === "nps" ? { lastNps: row.score } : {}),
          ...(tags.length ? { feedbackTags: mergedTags(tags) } : {}),
          updatedAt: now,
        })
        .where(and(eq(members.programId, programId), eq(members.id, memberId))),
    ]);
  } catch (err) {
    if (isDuplicateKey(err)) {
      const replayed = await replay();
      if (replayed) return replayed;
    }
    throw err;
  }
  return { replayed: false, body: { ...view(row), earning: await earnForFeedback(ctx, row) } };
}

/** The answer to a key already used: the stored row and its earning, or 409 if the key came with another request. */
async function replayFeedback(ctx: ServiceContext, req: { programId: string; idempotencyKey: string; requestHash: string }) {
  const [stored] = await ctx.db
    .select()
    .from(feedback)
    .where(and(eq(feedback.programId, req.programId), eq(feedback.requestKey, req.idempotencyKey)))
    .limit(1);
  if (!stored) return null;
  if (stored.requestHash !== req.requestHash)
    throw new AppError("idempotency_conflict", "This Idempotency-Key was already used with a different request");
  return { replayed: true, body: { ...view(stored), earning: await earnForFeedback(ctx, stored) } };
}

/** Survey and review points through the rules engine (the member ledger's activity operation). */
async function earnForFeedback(ctx: ServiceContext, row: FeedbackRow) {
  const kind = row.kind === "review" ? "review" : "survey";
  const body = {
    kind,
    occurredAt: row.createdAt,
    attributes: { feedbackId: row.id, feedbackKind: row.kind, ...(row.score === null ? {} : { score: row.score }) },
  };
  const req = await systemWriteRequest({
    programId: row.programId,
    memberId: row.memberId,
    idempotencyKey: systemKeys.feedback(row.id),
    operation: "activity",
    body,
  });
  const result = await memberLedger(ctx.env, row.programId, row.memberId).recordActivity(req, body);
  if (!result.ok) return { pointsEarned: 0, error: { code: result.code, message: result.message } };
  return { pointsEarned: result.body.pointsEarned };
}

export async function listMemberFeedback({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; memberId: string; limit: number; cursor?: string };
}) {
  await requireMemberRow(ctx, input.programId, input.memberId);
  const rows = await ctx.db
    .select()
    .from(feedback)
    .where(
      and(
        eq(feedback.programId, input.programId),
        eq(feedback.memberId, input.memberId),
        input.cursor ? lt(feedback.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(feedback.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, view);
}
