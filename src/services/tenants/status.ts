import { eq, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";

/**
 * Whether a program is suspended, as this isolate last read it. Every read of a program's key
 * (the key lookup joins its program) or member-token secrets notes it, so admitting a request
 * costs no round trip of its own; staff requests, which read no program row, look it up at most
 * once per window. A suspension takes effect at once on the isolate that made it and within
 * the window everywhere else, like a key revocation.
 */
const STATUS_CACHE_MS = 30_000;
const MAX_PROGRAMS = 10_000;
const statuses = new Map<string, { suspended: boolean; at: number }>();

export function noteProgramStatus(programId: string, suspendedAt: string | null | undefined) {
  statuses.delete(programId);
  statuses.set(programId, { suspended: !!suspendedAt, at: Date.now() });
  while (statuses.size > MAX_PROGRAMS) statuses.delete(statuses.keys().next().value as string);
}

/** 403 program_suspended when the operator has suspended the program. */
export async function assertProgramActive(ctx: ServiceContext, programId: string) {
  let known = statuses.get(programId);
  if (!known || Date.now() - known.at >= STATUS_CACHE_MS) {
    const [row] = await ctx.db.select({ suspendedAt: programs.suspendedAt }).from(programs).where(eq(programs.id, programId)).limit(1);
    noteProgramStatus(programId, row?.suspendedAt ?? null);
    known = statuses.get(programId)!;
  }
  if (known.suspended)
    throw new AppError(
      "program_suspended",
      `Program ${programId} is suspended by the operator: its keys and member tokens are refused until it is resumed`,
    );
}

/**
 * The suspended programs, as a subquery for the sweeps that send on a program's behalf (webhook
 * deliveries, campaign messages): theirs wait, still due, and go out once the program is resumed.
 */
export const suspendedPrograms = sql`SELECT id FROM programs WHERE suspended_at IS NOT NULL`;
