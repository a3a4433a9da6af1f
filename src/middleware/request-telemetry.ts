import type { Context } from "hono";
import { routePath } from "hono/route";
import type { AppBindings } from "../lib/context";
import { logLine, writeMetric } from "../lib/telemetry";

/**
 * The request's one log line and data point. The route is the pattern that answered
 * (`/v1/members/:memberId/accruals`), never the raw path or query, which may carry personal
 * data; an unmatched request is `(unmatched)`. Program and key id come from the principal.
 */
export function recordRequestTelemetry(c: Context<AppBindings>, durationMs: number) {
  const pattern = routePath(c);
  const route = !pattern || pattern.includes("*") ? "(unmatched)" : pattern;
  const principal = c.get("principal");
  const status = c.res.status;
  const errorCode = c.get("errorCode") ?? null;
  logLine({
    kind: "request",
    level: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
    requestId: c.get("requestId"),
    method: c.req.method,
    route,
    status,
    durationMs,
    programId: principal?.programId ?? null,
    keyId: principal?.keyId ?? null,
    errorCode,
  });
  writeMetric(
    c.env,
    "request",
    [route, c.req.method, principal?.programId ?? null, principal?.keyId ?? null, errorCode, c.get("requestId")],
    [durationMs, status],
  );
}
