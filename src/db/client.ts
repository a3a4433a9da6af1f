import { type Client, createClient } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import type * as schema from "../../schema";
import type { Env } from "../env";

export type Database = LibSQLDatabase<typeof schema> & { $client: Client };

/**
 * A database handle for one request, cron invocation or Durable Object. Never share one across
 * them: workerd binds I/O (and the client's internal request queue) to the context that
 * created it. Creating one is cheap — the HTTP client opens nothing until the first query and,
 * speaking Hrana v2 over HTTP, needs no version probe.
 */
export function database(env: Pick<Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">): Database {
  // libsql:// is Turso's scheme; over HTTP from a Worker it is https://.
  const url = env.LIBSQL_URL.replace(/^libsql:\/\//, "https://");
  return drizzle(createClient({ url, authToken: env.LIBSQL_AUTH_TOKEN })) as Database;
}
