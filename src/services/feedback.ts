import { and, desc, eq, lt } from "drizzle-orm";
import { feedback, members } from "../../schema";
import type { ServiceContext } from "../lib/context";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { nowIso } from "../lib/time";
import { ledgerHooks } from "../ledger/hooks";
import type { LedgerResult } from "../ledger/result";
import { memberLedger, writeRequest } from "./ledger";
import { requireMemberRow } from "./members";
import { cursorPage } from "../lib/pagination";

export type FeedbackInput = { kind: "nps" | "survey" | "review"; score?: number; text?: string; tags?: string[] };
type FeedbackRow = typeof feedback.$inferSelect;

/** Member feedback tags kept on the member row (for segments): the most recent, at most this many. */
const MAX_MEMBER_TAGS = 50;

const view = (r: FeedbackRow) => ({ id: r.id, memberId: r.memberId, kind: r.kind, score: r.score, text: r.text, tags: r.tags, createdAt: r.createdAt });

/**
 * Record feedback: the row, the member's last NPS and feedback tags (which segments can
 * use) in one batch; then, if the program has earning rules for it, the matching activity
 * (an NPS answer is a survey) through the member's ledger, idempotent on feedback:<id>.
 */
export async function submitFeedback({ ctx, input }: { ctx: ServiceContext; input: FeedbackInput & { programId: string; memberId: string } }) {
  const member = await requireMemberRow(ctx, input.programId, input.memberId);
  if (member.status !== "active") throw new AppError("conflict", `Member is ${member.status}; feedback is not accepted`);
  const now = nowIso();
  const tags = [...new Set((input.tags ?? []).map((t) => t.trim()).filter(Boolean))];
  const row: FeedbackRow = { id: newId("fb"), programId: input.programId, memberId: input.memberId, kind: input.kind, score: input.score ?? null, text: input.text ?? null, tags, createdAt: now };
  // Newest tags first, without duplicates, bounded.
  const memberTags = [...new Set([...tags, ...(member.feedbackTags ?? [])])].slice(0, MAX_MEMBER_TAGS);
  await ctx.db.batch([
    ctx.db.insert(feedback).values(row),
    ctx.db
      .update(members)
      .set({ ...(input.kind === "nps" ? { lastNps: row.score } : {}), ...(tags.length ? { feedbackTags: memberTags } : {}), updatedAt: now })
      .where(and(eq(members.programId, input.programId), eq(members.id, input.memberId))),
  ]);
  return { ...view(row), earning: await earnForFeedback(ctx, row) };
}

/** Survey and review points through the rules engine (the lead's `activity` operation), when present. */
async function earnForFeedback(ctx: ServiceContext, row: FeedbackRow) {
  if (!ledgerHooks.custom.activity) return null;
  const kind = row.kind === "review" ? "review" : "survey";
  const body = { kind, occurredAt: row.createdAt, attributes: { feedbackId: row.id, feedbackKind: row.kind, ...(row.score === null ? {} : { score: row.score }) } };
  const req = await writeRequest({ programId: row.programId, memberId: row.memberId, idempotencyKey: `feedback:${row.id}`, operation: "activity", body });
  const result = (await memberLedger(ctx.env, row.programId, row.memberId).custom(req, "activity", body)) as LedgerResult<{ pointsEarned?: number }>;
  if (!result.ok) return { pointsEarned: 0, error: { code: result.code, message: result.message } };
  return { pointsEarned: Number(result.body?.pointsEarned ?? 0) };
}

export async function listMemberFeedback({ ctx, input }: { ctx: ServiceContext; input: { programId: string; memberId: string; limit: number; cursor?: string } }) {
  await requireMemberRow(ctx, input.programId, input.memberId);
  const rows = await ctx.db
    .select()
    .from(feedback)
    .where(and(eq(feedback.programId, input.programId), eq(feedback.memberId, input.memberId), input.cursor ? lt(feedback.id, input.cursor) : undefined))
    .orderBy(desc(feedback.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, view);
}
