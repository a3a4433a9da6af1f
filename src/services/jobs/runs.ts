import { and, asc, desc, eq, lt } from "drizzle-orm";
import { programJobRuns, programJobShards } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";

type RunRow = typeof programJobRuns.$inferSelect;

export type JobRunView = {
  id: string;
  job: string;
  runKey: string;
  asOf: string;
  status: RunRow["status"];
  shardsDone: number;
  shardsTotal: number;
  rows: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
};

const view = (r: RunRow): JobRunView => ({
  id: r.id,
  job: r.job,
  runKey: r.runKey,
  asOf: r.asOf,
  status: r.status,
  shardsDone: r.shardsDone,
  shardsTotal: r.shardsTotal,
  rows: r.rows,
  createdAt: r.createdAt,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  error: r.error,
});

/** The program's fanned-out job runs, newest first; `job` filters, `before` pages (a run id from the previous page). */
export async function listJobRuns({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; job?: string; limit: number; before?: string };
}): Promise<{ data: JobRunView[]; nextCursor: string | null }> {
  const rows = await ctx.db
    .select()
    .from(programJobRuns)
    .where(
      and(
        eq(programJobRuns.programId, input.programId),
        input.job ? eq(programJobRuns.job, input.job) : undefined,
        input.before ? lt(programJobRuns.id, input.before) : undefined,
      ),
    )
    .orderBy(desc(programJobRuns.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return { data: page.map(view), nextCursor: rows.length > input.limit ? page[page.length - 1].id : null };
}

/** One run of the program with its shards; another program's run is not found. */
export async function getJobRun({ ctx, input }: { ctx: ServiceContext; input: { programId: string; runId: string } }) {
  const [run] = await ctx.db
    .select()
    .from(programJobRuns)
    .where(and(eq(programJobRuns.id, input.runId), eq(programJobRuns.programId, input.programId)))
    .limit(1);
  if (!run) throw notFound("Job run");
  const shards = await ctx.db
    .select({
      shard: programJobShards.shard,
      status: programJobShards.status,
      attempts: programJobShards.attempts,
      rows: programJobShards.rows,
      doneAt: programJobShards.doneAt,
      error: programJobShards.error,
    })
    .from(programJobShards)
    .where(eq(programJobShards.runId, run.id))
    .orderBy(asc(programJobShards.shard));
  return { ...view(run), shards };
}
