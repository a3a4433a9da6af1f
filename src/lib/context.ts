import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "../db/client";
import type { Env } from "../env";

export type Scope = "admin" | "storefront" | "partner";
/** An authenticated API key: its program, scope and own rate limit (null: the deployment default). */
export type Principal = { keyId: string; programId: string; scope: Scope; rateLimitPerMinute?: number | null };

/** What every domain service receives: `verb({ ctx, input })`. */
export type ServiceContext = { env: Env; db: Database; requestId: string; principal?: Principal };

export type AppBindings = {
  Bindings: Env;
  Variables: { requestId: string; ctx: ServiceContext; principal?: Principal };
};

export type App = OpenAPIHono<AppBindings>;
