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
export function database(env: Pick<Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">, options: { roundTripTimeoutMs?: number } = {}): Database {
  // libsql:// is Turso's scheme; over HTTP from a Worker it is https://.
  const url = env.LIBSQL_URL.replace(/^libsql:\/\//, "https://");
  const timeoutMs = options.roundTripTimeoutMs;
  // With a deadline each round trip is aborted after it (a TimeoutError): the member's ledger stores
  // and forwards a write whose database is slower than its budget (src/durable/member-ledger.ts).
  const fetchWithin = timeoutMs ? (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }) : undefined;
  return drizzle(createClient({ url, authToken: env.LIBSQL_AUTH_TOKEN, ...(fetchWithin ? { fetch: fetchWithin } : {}) })) as Database;
}
