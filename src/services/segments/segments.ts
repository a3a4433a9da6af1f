import { and, asc, count, eq, gt, sql } from "drizzle-orm";
import { members, segmentMembers, segments } from "../../../schema";
import { fragmentSql, type Statement } from "../../analytics/sql";
import type { Database } from "../../db/client";
import { compileSegmentRuleToSql, memberSqlFields, parseSegmentRule, type SegmentRule } from "../../domain/segments/rule";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";

/** Keeps the nightly recompute bounded: one set-based batch per segment. The config document's cap too. */
export const MAX_SEGMENTS_PER_PROGRAM = 100;

export type SegmentRow = typeof segments.$inferSelect;
export type SegmentView = {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  memberCount: number;
  computedAt: string | null;
  createdAt: string;
  updatedAt: string;
};

const view = (row: SegmentRow): SegmentView => ({
  id: row.id,
  name: row.name,
  description: row.description,
  rule: row.rule,
  memberCount: row.memberCount,
  computedAt: row.computedAt,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** A rule from the request, validated by the domain schema; its messages become the 400. */
function validRule(input: unknown): SegmentRule {
  const parsed = parseSegmentRule(input);
  if (!parsed.ok) throw new AppError("invalid_request", `Invalid segment rule: ${parsed.errors.join("; ")}`, { errors: parsed.errors });
  return parsed.rule;
}

async function requireSegment(db: Database, programId: string, segmentId: string): Promise<SegmentRow> {
  const [row] = await db
    .select()
    .from(segments)
    .where(and(eq(segments.programId, programId), eq(segments.id, segmentId)))
    .limit(1);
  if (!row) throw notFound("Segment");
  return row;
}

// ---------------------------------------------------------------- membership

/**
 * Statements that make segment_members match the rule now, set-based: drop members who no
 * longer match, add the ones who newly do (members who stay keep their added_at), then store
 * the count. Run them in one batch. Erased members are never in a segment.
 */
function membershipStatements(db: Database, segment: Pick<SegmentRow, "id" | "programId">, rule: SegmentRule, now: string): Statement[] {
  const where = fragmentSql(compileSegmentRuleToSql(rule, memberSqlFields({ now, alias: "m" })));
  const matching = sql`SELECT m.id FROM members m WHERE m.program_id = ${segment.programId} AND m.status NOT IN ('erased', 'merged') AND ${where}`;
  return [
    db.run(sql`DELETE FROM segment_members WHERE segment_id = ${segment.id} AND member_id NOT IN (${matching})`),
    db.run(sql`INSERT OR IGNORE INTO segment_members (segment_id, member_id, program_id, added_at)
      SELECT ${segment.id}, id, ${segment.programId}, ${now} FROM (${matching})`),
    db.run(sql`UPDATE segments SET member_count = (SELECT COUNT(*) FROM segment_members WHERE segment_id = ${segment.id}), computed_at = ${now}
      WHERE id = ${segment.id}`),
  ];
}

export type RecomputedSegment = { id: string; memberCount: number; computedAt: string } | { id: string; error: string };

/** Recompute every custom segment of a program (the nightly job), one batch per segment. */
export async function recomputeProgramSegments(db: Database, programId: string, now: Date): Promise<RecomputedSegment[]> {
  const at = now.toISOString();
  const rows = await db
    .select()
    .from(segments)
    .where(eq(segments.programId, programId))
    .orderBy(asc(segments.id))
    .limit(MAX_SEGMENTS_PER_PROGRAM);
  const out: RecomputedSegment[] = [];
  for (const row of rows) {
    const parsed = parseSegmentRule(row.rule);
    if (!parsed.ok) {
      out.push({ id: row.id, error: `stored rule no longer validates: ${parsed.errors.join("; ")}` });
      continue;
    }
    await db.batch(membershipStatements(db, row, parsed.rule, at) as [Statement, ...Statement[]]);
    const [{ n }] = await db.select({ n: segments.memberCount }).from(segments).where(eq(segments.id, row.id));
    out.push({ id: row.id, memberCount: n, computedAt: at });
  }
  return out;
}

// ---------------------------------------------------------------- admin CRUD

export type SegmentInput = { name: string; description?: string | null; rule: unknown };

/** Create a segment and compute its membership right away, with the audit row, in one batch. */
export async function createSegment({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: SegmentInput & { programId: string };
}): Promise<SegmentView> {
  const rule = validRule(input.rule);
  const [{ n }] = await ctx.db.select({ n: count() }).from(segments).where(eq(segments.programId, input.programId));
  if (n >= MAX_SEGMENTS_PER_PROGRAM) throw new AppError("limit_reached", `A program may have at most ${MAX_SEGMENTS_PER_PROGRAM} segments`);
  const now = nowIso();
  const row: SegmentRow = {
    id: newId("seg"),
    programId: input.programId,
    name: input.name,
    description: input.description ?? null,
    rule,
    memberCount: 0,
    computedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db.insert(segments).values(row),
    ...membershipStatements(ctx.db, row, rule, now),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "segment.create",
      entityType: "segment",
      entityId: row.id,
      after: { name: row.name, description: row.description, rule },
    }),
  ]);
  return view(await requireSegment(ctx.db, input.programId, row.id));
}

export async function listSegments({ ctx, input }: { ctx: ServiceContext; input: { programId: string; limit: number; cursor?: string } }) {
  const rows = await ctx.db
    .select()
    .from(segments)
    .where(and(eq(segments.programId, input.programId), input.cursor ? gt(segments.id, input.cursor) : undefined))
    .orderBy(asc(segments.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, view);
}

export async function getSegment({ ctx, input }: { ctx: ServiceContext; input: { programId: string; segmentId: string } }) {
  return view(await requireSegment(ctx.db, input.programId, input.segmentId));
}

/** Change name, description or rule; a new rule recomputes membership in the same batch. */
export async function updateSegment({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; segmentId: string; patch: Partial<SegmentInput> };
}) {
  const before = await requireSegment(ctx.db, input.programId, input.segmentId);
  const rule = input.patch.rule === undefined ? undefined : validRule(input.patch.rule);
  const now = nowIso();
  const set = {
    ...(input.patch.name === undefined ? {} : { name: input.patch.name }),
    ...(input.patch.description === undefined ? {} : { description: input.patch.description }),
    ...(rule === undefined ? {} : { rule }),
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db
      .update(segments)
      .set(set)
      .where(and(eq(segments.programId, input.programId), eq(segments.id, before.id))),
    ...(rule ? membershipStatements(ctx.db, before, rule, now) : []),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "segment.update",
      entityType: "segment",
      entityId: before.id,
      before: { name: before.name, description: before.description, rule: before.rule },
      after: {
        name: set.name ?? before.name,
        description: set.description === undefined ? before.description : set.description,
        rule: rule ?? before.rule,
      },
    }),
  ]);
  return view(await requireSegment(ctx.db, input.programId, before.id));
}

export async function deleteSegment({ ctx, input }: { ctx: ServiceContext; input: { programId: string; segmentId: string } }) {
  const before = await requireSegment(ctx.db, input.programId, input.segmentId);
  await ctx.db.batch([
    ctx.db.delete(segmentMembers).where(eq(segmentMembers.segmentId, before.id)),
    ctx.db.delete(segments).where(and(eq(segments.programId, input.programId), eq(segments.id, before.id))),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "segment.delete",
      entityType: "segment",
      entityId: before.id,
      before: { name: before.name, description: before.description, rule: before.rule },
    }),
  ]);
}

/** Recompute one segment's membership now (admin, on demand). */
export async function recomputeSegment({ ctx, input }: { ctx: ServiceContext; input: { programId: string; segmentId: string } }) {
  const row = await requireSegment(ctx.db, input.programId, input.segmentId);
  const parsed = parseSegmentRule(row.rule);
  if (!parsed.ok)
    throw new AppError("conflict", `The stored rule no longer validates; update it first: ${parsed.errors.join("; ")}`, {
      errors: parsed.errors,
    });
  const now = nowIso();
  await ctx.db.batch([
    ...(membershipStatements(ctx.db, row, parsed.rule, now) as [Statement, ...Statement[]]),
    auditStatement(ctx, { action: "segment.recompute", entityType: "segment", entityId: row.id, before: { memberCount: row.memberCount } }),
  ]);
  return view(await requireSegment(ctx.db, input.programId, row.id));
}

/** A page of a segment's members in member-id order; the cursor is the last member id. */
export async function listSegmentMembers({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; segmentId: string; limit: number; cursor?: string };
}) {
  const segment = await requireSegment(ctx.db, input.programId, input.segmentId);
  const rows = await ctx.db
    .select({
      memberId: segmentMembers.memberId,
      externalId: members.externalId,
      stage: members.stage,
      valueSegment: members.valueSegment,
      churnProbability: members.churnProbability,
      clv12m: members.clv12m,
      addedAt: segmentMembers.addedAt,
    })
    .from(segmentMembers)
    .innerJoin(members, eq(members.id, segmentMembers.memberId))
    .where(
      and(
        eq(segmentMembers.segmentId, segment.id),
        eq(segmentMembers.programId, input.programId),
        input.cursor ? gt(segmentMembers.memberId, input.cursor) : undefined,
      ),
    )
    .orderBy(asc(segmentMembers.memberId))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.memberId);
}
