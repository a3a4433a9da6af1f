import type { Context } from "hono";
import type { WriteMeter } from "../db/client";
import { database } from "../db/client";
import type { AppBindings } from "../lib/context";
import { flushUsage, recordUsage, usageFlushDue } from "../services/tenants/usage";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Count the request against its program's usage (requests; writes: a change answered 2xx; the
 * rows this request's own database handle wrote), in memory; the flush runs after the response
 * (waitUntil), so metering adds no round trip to any request.
 */
export function meterRequest(c: Context<AppBindings>, meter: WriteMeter) {
  const programId = c.get("principal")?.programId;
  if (!programId) return;
  const status = c.res.status;
  recordUsage(programId, {
    requests: 1,
    writes: !READS.has(c.req.method) && status >= 200 && status < 300 ? 1 : 0,
    rowsWritten: meter.rowsWritten,
  });
  if (!usageFlushDue()) return;
  let executionCtx: ExecutionContext | undefined;
  try {
    executionCtx = c.executionCtx;
  } catch {
    // No execution context (an app called without one): the next request's flush takes these counts.
    return;
  }
  executionCtx.waitUntil(flushUsage(database(c.env)));
}
