import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { isDatabaseUnavailable } from "./db/availability";
import { database, type WriteMeter } from "./db/client";
import { settingsOf } from "./env";
import type { AppBindings } from "./lib/context";
import { AppError, errorBody } from "./lib/errors";
import { randomBase32 } from "./lib/ids";
import { apiVersioning } from "./middleware/api-version";
import { cors } from "./middleware/cors";
import { recordRequestTelemetry } from "./middleware/request-telemetry";
import { meterRequest } from "./middleware/usage";
import { apiRoutes } from "./routes";
import type { RouteModule } from "./routes/route";

const MAX_BODY_BYTES = 1_000_000;

function zodIssues(error: { issues: Array<{ path: PropertyKey[]; message: string; code: string }> }) {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code }));
}

/** Build the API: middleware, then `routes` (by default every route of the API) and their OpenAPI document. */
export function createApp(routes: readonly RouteModule[] = apiRoutes) {
  const app = new OpenAPIHono<AppBindings>({
    // Every zod failure (body, query, params, headers) becomes one 400 with the failing fields.
    defaultHook: (result) => {
      if (!result.success) {
        const fields = zodIssues(result.error as never);
        throw new AppError("invalid_request", `Invalid request: ${fields.map((f) => `${f.path || "(root)"}: ${f.message}`).join("; ")}`, {
          fields,
        });
      }
    },
  });

  app.use("*", async (c, next) => {
    const started = Date.now();
    // A caller's own request id is kept when it is a plain token (it is logged and echoed).
    const given = c.req.header("x-request-id");
    const requestId = given && /^[\w.:-]{1,64}$/.test(given) ? given : `req_${randomBase32(20)}`;
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    settingsOf(c.env);
    const meter: WriteMeter = { rowsWritten: 0 };
    c.set("ctx", { env: c.env, db: database(c.env, { meter }), requestId });
    // A handler's error is answered by onError before next() returns, so its status is known here.
    try {
      await next();
    } finally {
      recordRequestTelemetry(c, Date.now() - started);
      meterRequest(c, meter);
    }
  });

  app.use("/v1/*", cors);

  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError("payload_too_large", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );

  app.use("/v1/*", apiVersioning);

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    let appError: AppError;
    if (err instanceof AppError) appError = err;
    else if (err instanceof ZodError) {
      // Validation inside a service (e.g. a PATCH merged into a stored definition).
      const fields = zodIssues(err as never);
      appError = new AppError(
        "invalid_request",
        `Invalid request: ${fields.map((f) => `${f.path || "(root)"}: ${f.message}`).join("; ")}`,
        { fields },
      );
    } else if (err instanceof HTTPException && err.status < 500) {
      // Hono's own 4xx (e.g. malformed JSON in the body validator).
      appError = new AppError(err.status === 413 ? "payload_too_large" : "invalid_request", err.message || "Invalid request");
    } else if (isDatabaseUnavailable(err)) {
      appError = new AppError(
        "service_unavailable",
        "The database cannot be reached; retry later (writes with the same Idempotency-Key are safe)",
      );
    } else {
      console.error(JSON.stringify({ level: "error", requestId, message: String(err), stack: (err as Error)?.stack }));
      appError = new AppError("internal_error", "Internal error; retry with the same Idempotency-Key is safe");
    }
    c.set("errorCode", appError.code);
    return c.json(errorBody(appError, requestId), appError.status);
  });

  app.notFound((c) => {
    c.set("errorCode", "not_found");
    return c.json(errorBody(new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`), c.get("requestId") ?? "unknown"), 404);
  });

  for (const route of routes) route.register(app);
  return app;
}
