import { and, desc, eq, gte, lte, sql } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "../../../schema";
import { auditLog, members, programs, programUsageDaily } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { forgetCachedKeys } from "../../middleware/auth";
import { type CreateProgramInput, createProgram } from "../access/programs";
import { noteProgramStatus } from "./status";
import { flushUsage } from "./usage";

type ProgramRow = typeof programs.$inferSelect;

/** What the operator sees of a program: never its settings (sealed secrets live there). */
function tenantView(p: ProgramRow) {
  return {
    id: p.id,
    name: p.name,
    currency: p.currency,
    timeZone: p.timeZone,
    status: p.suspendedAt ? ("suspended" as const) : ("active" as const),
    suspendedAt: p.suspendedAt,
    suspendedReason: p.suspendedReason,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

async function requireProgram(ctx: ServiceContext, programId: string): Promise<ProgramRow> {
  const [row] = await ctx.db.select().from(programs).where(eq(programs.id, programId)).limit(1);
  if (!row) throw notFound("Program");
  return row;
}

/** An operator action, filed in the program's own audit log (actor `operator`). */
function operatorAudit(ctx: ServiceContext, programId: string, action: string, before: unknown, after: unknown) {
  return ctx.db.insert(auditLog).values({
    id: newId("aud"),
    programId,
    keyId: null,
    actor: "operator",
    action,
    entityType: "program",
    entityId: programId,
    before: before as never,
    after: after as never,
    requestId: ctx.requestId,
    createdAt: nowIso(),
  });
}

/**
 * A new program with only an admin key (shown once): its admin mints the storefront and partner
 * keys it needs (POST /v1/keys), so no secret exists that nobody asked for.
 */
export async function createTenant({ ctx, input }: { ctx: ServiceContext; input: CreateProgramInput }) {
  const created = await createProgram({ ctx, input, scopes: ["admin"] });
  const program = await requireProgram(ctx, created.programId);
  return { program: tenantView(program), adminKey: created.keys.admin, partnerSigningSecret: created.partnerSigningSecret };
}

export async function listTenants({ ctx, input }: { ctx: ServiceContext; input: { limit: number; cursor?: string } }) {
  const rows = await ctx.db
    .select()
    .from(programs)
    .where(input.cursor ? sql`${programs.id} < ${input.cursor}` : undefined)
    .orderBy(desc(programs.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, (r) => r.id, tenantView);
}

export async function getTenant({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  return tenantView(await requireProgram(ctx, input.programId));
}

/**
 * Suspend (reason given) or resume (null) a program. Idempotent: suspending a suspended program
 * keeps its first suspension time. Takes effect at once on this isolate (its key cache is
 * dropped) and within the auth cache window (30 s) on every other.
 */
export async function setSuspended({ ctx, input }: { ctx: ServiceContext; input: { programId: string; reason: string | null } }) {
  const before = await requireProgram(ctx, input.programId);
  const suspend = input.reason !== null;
  if (suspend === !!before.suspendedAt && (!suspend || before.suspendedReason === input.reason)) return tenantView(before);
  const now = nowIso();
  const after: ProgramRow = {
    ...before,
    suspendedAt: suspend ? (before.suspendedAt ?? now) : null,
    suspendedReason: suspend ? input.reason : null,
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db
      .update(programs)
      .set({ suspendedAt: after.suspendedAt, suspendedReason: after.suspendedReason, updatedAt: now })
      .where(eq(programs.id, input.programId)),
    operatorAudit(ctx, input.programId, suspend ? "program.suspended" : "program.resumed", tenantView(before), tenantView(after)),
  ]);
  noteProgramStatus(input.programId, after.suspendedAt);
  forgetCachedKeys();
  return tenantView(after);
}

/**
 * How each table's rows of one program are found, derived from the drizzle schema: a table with
 * `program_id` by it, the few without one by their parent. A table with neither is an error
 * (listed by tenantTables), so a new table cannot be forgotten by program deletion.
 */
const OWNED_THROUGH: Record<string, string> = {
  // Shards belong to their run.
  program_job_shards: "run_id IN (SELECT id FROM program_job_runs WHERE program_id = ?1)",
  // Keyed by rule and member, neither carrying the program.
  rule_member_usage:
    "rule_id IN (SELECT id FROM earning_rules WHERE program_id = ?1) OR member_id IN (SELECT id FROM members WHERE program_id = ?1)",
};
/** Deployment-wide bookkeeping: no tenant's data. */
const DEPLOYMENT_TABLES = new Set(["job_runs", "outbox_cursors"]);

/** `key`: the columns a chunk of rows is picked by (the primary key; rowid without one; some tables have no rowid). */
type TenantTable = { table: string; where: string; key: string[] };

/**
 * Every table of the schema with the condition that selects one program's rows (`?1` = the
 * program id), children before parents and `programs` last, so a deletion interrupted half way
 * still finds the rest by the same conditions when it is run again.
 */
function tenantTables(): TenantTable[] {
  const through: TenantTable[] = [];
  const direct: TenantTable[] = [];
  const unclassified: string[] = [];
  for (const value of Object.values(schema)) {
    if (!(value instanceof SQLiteTable)) continue;
    const { name, columns, primaryKeys } = getTableConfig(value);
    if (name === "programs" || DEPLOYMENT_TABLES.has(name)) continue;
    const primary = columns.filter((c) => c.primary).map((c) => c.name);
    const key = primary.length > 0 ? primary : (primaryKeys[0]?.columns.map((c) => c.name) ?? ["rowid"]);
    if (OWNED_THROUGH[name]) through.push({ table: name, where: OWNED_THROUGH[name], key });
    else if (columns.some((c) => c.name === "program_id")) direct.push({ table: name, where: "program_id = ?1", key });
    else unclassified.push(name);
  }
  if (unclassified.length > 0)
    throw new Error(
      `Tables without program_id and no rule for finding a program's rows (src/services/tenants/programs.ts): ${unclassified.join(", ")}`,
    );
  direct.sort((a, b) => (a.table === "members" ? 1 : b.table === "members" ? -1 : a.table.localeCompare(b.table)));
  return [...through, ...direct, { table: "programs", where: "id = ?1", key: ["id"] }];
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Rows of the program in every table (the dry run), in deletion order. */
async function countTenantRows(ctx: ServiceContext, programId: string): Promise<Record<string, number>> {
  const tables = tenantTables();
  const results = await ctx.db.$client.batch(
    tables.map((t) => ({ sql: `SELECT count(*) AS n FROM ${quoteId(t.table)} WHERE ${t.where}`, args: [programId] })),
    "read",
  );
  return Object.fromEntries(tables.map((t, i) => [t.table, Number(results[i].rows[0].n)]));
}

/** Rows removed per statement, so each batch stays well inside libSQL's limits at any program size. */
const DELETE_CHUNK = 5000;

/**
 * Delete a program and every row it owns (`confirm` must repeat its id). It is suspended first,
 * so no new writes arrive, then its rows go table by table in chunks, `programs` last: a deletion
 * cut short leaves a suspended program that the same call finishes. Idempotent in effect: a
 * program already gone is 404.
 */
export async function deleteTenant(ctx: ServiceContext, input: { programId: string; confirm: string }) {
  if (input.confirm !== input.programId)
    throw new AppError("invalid_request", "To delete a program, confirm must repeat its id (see the dry run: ?dryRun=true)", {
      fields: [{ path: "confirm", message: "must equal the program id" }],
    });
  const program = await requireProgram(ctx, input.programId);
  const rows = await countTenantRows(ctx, input.programId);
  if (!program.suspendedAt) await setSuspended({ ctx, input: { programId: input.programId, reason: "deleting" } });
  // Counts this isolate still holds for the program are flushed first (then dropped with its rows).
  await flushUsage(ctx.db);
  const tables = tenantTables();
  for (const t of tables) {
    for (;;) {
      const key = t.key.map(quoteId).join(", ");
      const result = await ctx.db.$client.execute({
        sql: `DELETE FROM ${quoteId(t.table)} WHERE (${key}) IN (SELECT ${key} FROM ${quoteId(t.table)} WHERE ${t.where} LIMIT ${DELETE_CHUNK})`,
        args: [input.programId],
      });
      if (result.rowsAffected < DELETE_CHUNK) break;
    }
  }
  noteProgramStatus(input.programId, null);
  forgetCachedKeys();
  return { programId: input.programId, dryRun: false, deletedAt: nowIso(), rows, totalRows: sum(rows) };
}

export async function deletionDryRun(ctx: ServiceContext, programId: string) {
  await requireProgram(ctx, programId);
  const rows = await countTenantRows(ctx, programId);
  return { programId, dryRun: true, deletedAt: null, rows, totalRows: sum(rows), confirm: programId };
}

const sum = (rows: Record<string, number>) => Object.values(rows).reduce((a, b) => a + b, 0);

/**
 * A program's usage per UTC day in [from, to], with totals and its members now. This isolate's
 * counts are flushed first, so what it has just counted is included.
 */
export async function tenantUsage(ctx: ServiceContext, input: { programId: string; from: string; to: string }) {
  await requireProgram(ctx, input.programId);
  await flushUsage(ctx.db);
  const [days, memberCounts] = await ctx.db.batch([
    ctx.db
      .select({
        day: programUsageDaily.day,
        requests: programUsageDaily.requests,
        writes: programUsageDaily.writes,
        rowsWritten: programUsageDaily.rowsWritten,
      })
      .from(programUsageDaily)
      .where(
        and(eq(programUsageDaily.programId, input.programId), gte(programUsageDaily.day, input.from), lte(programUsageDaily.day, input.to)),
      )
      .orderBy(programUsageDaily.day),
    ctx.db
      .select({
        total: sql<number>`count(*)`,
        active: sql<number>`coalesce(sum(CASE WHEN ${members.status} = 'active' THEN 1 ELSE 0 END), 0)`,
      })
      .from(members)
      .where(eq(members.programId, input.programId)),
  ]);
  const totals = { requests: 0, writes: 0, rowsWritten: 0 };
  for (const d of days) {
    totals.requests += d.requests;
    totals.writes += d.writes;
    totals.rowsWritten += d.rowsWritten;
  }
  return {
    programId: input.programId,
    from: input.from,
    to: input.to,
    members: { total: Number(memberCounts[0]?.total ?? 0), active: Number(memberCounts[0]?.active ?? 0) },
    totals,
    days,
  };
}
