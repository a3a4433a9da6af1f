import { and, asc, eq, lt, ne } from "drizzle-orm";
import { memberMerges, redemptions } from "../../../schema";
import { database } from "../../db/client";
import type { Env } from "../../env";
import type { MergeResult } from "../../ledger/operations/merge";
import { unwrap } from "../../ledger/result";
import { systemKeys } from "../../ledger/system-keys";
import type { ServiceContext } from "../../lib/context";
import { AppError, errorChainText } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import { requireMemberRow } from "./members";

type MergeRecord = typeof memberMerges.$inferSelect;
type MergeInput = { programId: string; targetId: string; sourceId: string; idempotencyKey: string };

/**
 * Merge member `sourceId` into `targetId` (admin). The record in member_merges names the steps;
 * each step is an idempotent write in one member's Durable Object, so a merge stopped anywhere
 * (a crash, a timeout) resumes where it stopped when asked again (same request, or any request
 * to merge the same member into the same target), and a completed merge answers with its
 * original result. Both members are locked for the duration, always in id order, so two merges
 * of the same pair in opposite directions cannot interleave: the second finds a lock (409
 * merge_in_progress) and leaves no trace.
 */
export async function mergeMembers({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: MergeInput;
}): Promise<{ result: MergeResult; replayed: boolean }> {
  const { programId, targetId, sourceId } = input;
  if (targetId === sourceId)
    throw new AppError("invalid_request", "A member cannot be merged into itself", {
      fields: [{ path: "from", message: "the same member" }],
    });
  const existing = await findRecord(ctx, input);
  if (existing) return resume(ctx, existing);

  const [target, source] = await Promise.all([requireMemberRow(ctx, programId, targetId), requireMemberRow(ctx, programId, sourceId)]);
  for (const m of [target, source]) {
    if (m.status === "merged")
      throw new AppError("member_merged", `Member ${m.id} was already merged into ${m.mergedInto}`, {
        memberId: m.id,
        mergedInto: m.mergedInto,
      });
    if (m.status === "erased") throw new AppError("member_erased", `Member ${m.id} has been erased and cannot be merged`);
  }
  const now = nowIso();
  const record: MergeRecord = {
    id: newId("mrg"),
    programId,
    targetId,
    sourceId,
    status: "debiting",
    idempotencyKey: input.idempotencyKey,
    result: null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.db.insert(memberMerges).values(record);
  } catch (err) {
    // A concurrent request for the same member or key got there first: follow its record.
    if (!/UNIQUE constraint failed: member_merges/i.test(errorChainText(err))) throw err;
    const raced = await findRecord(ctx, input);
    if (!raced) throw err;
    return resume(ctx, raced);
  }
  return run(ctx, record);
}

/** The record this request names: by its Idempotency-Key, or the merge of the same member away. */
async function findRecord(ctx: ServiceContext, input: MergeInput): Promise<MergeRecord | null> {
  const [byKey] = await ctx.db
    .select()
    .from(memberMerges)
    .where(and(eq(memberMerges.programId, input.programId), eq(memberMerges.idempotencyKey, input.idempotencyKey)))
    .limit(1);
  if (byKey && (byKey.sourceId !== input.sourceId || byKey.targetId !== input.targetId))
    throw new AppError("idempotency_conflict", "This Idempotency-Key was already used with a different request");
  if (byKey) return byKey;
  const [bySource] = await ctx.db
    .select()
    .from(memberMerges)
    .where(and(eq(memberMerges.programId, input.programId), eq(memberMerges.sourceId, input.sourceId)))
    .limit(1);
  if (bySource && bySource.targetId !== input.targetId)
    throw new AppError("member_merged", `Member ${input.sourceId} was already merged into ${bySource.targetId}`, {
      memberId: input.sourceId,
      mergedInto: bySource.targetId,
    });
  return bySource ?? null;
}

async function resume(ctx: ServiceContext, record: MergeRecord): Promise<{ result: MergeResult; replayed: boolean }> {
  if (record.status === "completed" && record.result) {
    // The last step committed; its locks may not have been released before a crash.
    await unlockBoth(ctx, record);
    return { result: record.result as MergeResult, replayed: true };
  }
  return run(ctx, record);
}

const stubOf = (ctx: ServiceContext, record: MergeRecord, memberId: string) => memberLedger(ctx.env, record.programId, memberId);

async function unlockBoth(ctx: ServiceContext, record: MergeRecord) {
  await Promise.all([record.targetId, record.sourceId].map((id) => stubOf(ctx, record, id).unlockMerge(record.id)));
}

/**
 * Give up a merge that moved nothing (a lock held by another merge, open checkout holds): its
 * record goes only while still `debiting`, and only then are its locks released.
 */
async function abandon(ctx: ServiceContext, record: MergeRecord, error: AppError): Promise<never> {
  const deleted = await ctx.db
    .delete(memberMerges)
    .where(and(eq(memberMerges.id, record.id), eq(memberMerges.status, "debiting")))
    .returning({ id: memberMerges.id });
  if (deleted.length > 0) await unlockBoth(ctx, record);
  throw error;
}

async function run(ctx: ServiceContext, record: MergeRecord): Promise<{ result: MergeResult; replayed: boolean }> {
  const { programId, targetId, sourceId, id: mergeId } = record;
  // Fixed order: the lower id first, whichever direction the merge goes.
  for (const memberId of [targetId, sourceId].sort()) {
    const locked = await stubOf(ctx, record, memberId).lockForMerge(mergeId);
    if (!locked.ok) return abandon(ctx, record, new AppError(locked.code, locked.message, locked.details));
  }
  ctx.env.mergeFaults?.("locked", mergeId);
  if (record.status === "debiting") {
    // Under the locks no new hold can open; one already open would be orphaned on a tombstone.
    const [hold] = await ctx.db
      .select({ id: redemptions.id })
      .from(redemptions)
      .where(and(eq(redemptions.programId, programId), eq(redemptions.memberId, sourceId), eq(redemptions.status, "reserved")))
      .limit(1);
    if (hold)
      return abandon(
        ctx,
        record,
        new AppError("conflict", `Member ${sourceId} has open checkout holds; capture or void them before merging`, {
          redemptionId: hold.id,
        }),
      );
  }
  const outRequest = await systemWriteRequest({
    programId,
    memberId: sourceId,
    operation: "member.merge.out",
    idempotencyKey: systemKeys.merge(sourceId, "out"),
    body: { targetId },
  });
  const out = await stubOf(ctx, record, sourceId).mergeOut(outRequest, { mergeId, targetId });
  if (!out.ok) return abandon(ctx, record, new AppError(out.code, out.message, out.details));
  ctx.env.mergeFaults?.("debited", mergeId);

  const inRequest = await systemWriteRequest({
    programId,
    memberId: targetId,
    operation: "member.merge.in",
    idempotencyKey: systemKeys.merge(sourceId, "in"),
    body: { sourceId },
  });
  const actor = { keyId: ctx.principal?.keyId ?? null, staffEmail: ctx.principal?.staff?.email ?? null, requestId: ctx.requestId };
  const merged = unwrap(await stubOf(ctx, record, targetId).mergeIn(inRequest, { mergeId, out: out.body, actor }));
  ctx.env.mergeFaults?.("credited", mergeId);
  await unlockBoth(ctx, record);
  // The tombstone's profile was cleared by the target's batch: its cached view goes too.
  await stubOf(ctx, record, sourceId).forget();
  return { result: merged.body, replayed: merged.replayed };
}

/** A merge not completed this long after its last step is taken as stopped (a crash, a timeout). */
const STALLED_AFTER_MS = 5 * 60_000;

/**
 * Finish merges that stopped half way and that nobody asked for again (every 5 minutes): each is
 * resumed exactly as a repeated request would, so its two members do not stay locked. One that
 * cannot finish now (a step refused) stays as it is, for the next run or an admin.
 */
export async function resumeStalledMerges(env: Env, now: Date, batchSize: number) {
  const db = database(env);
  const stalled = await db
    .select()
    .from(memberMerges)
    .where(and(ne(memberMerges.status, "completed"), lt(memberMerges.updatedAt, new Date(now.getTime() - STALLED_AFTER_MS).toISOString())))
    .orderBy(asc(memberMerges.updatedAt))
    .limit(batchSize);
  let resumed = 0;
  const failed: string[] = [];
  for (const record of stalled) {
    try {
      await run({ env, db, requestId: `merge-resume:${record.id}` }, record);
      resumed++;
    } catch (err) {
      failed.push(`${record.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { resumed, failed: failed.length };
}
