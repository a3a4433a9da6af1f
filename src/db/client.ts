import { type Client, createClient, type ResultSet } from "@libsql/client/web";
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
export function database(
  env: Pick<Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">,
  options: { roundTripTimeoutMs?: number; meter?: WriteMeter } = {},
): Database {
  // libsql:// is Turso's scheme; over HTTP from a Worker it is https://.
  const url = env.LIBSQL_URL.replace(/^libsql:\/\//, "https://");
  const timeoutMs = options.roundTripTimeoutMs;
  // With a deadline each round trip is aborted after it (a TimeoutError): the member's ledger stores
  // and forwards a write whose database is slower than its budget (src/durable/member-ledger.ts).
  const fetchWithin = timeoutMs ? (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }) : undefined;
  const client = createClient({ url, authToken: env.LIBSQL_AUTH_TOKEN, ...(fetchWithin ? { fetch: fetchWithin } : {}) });
  if (options.meter) meterWrites(client, options.meter);
  return drizzle(client) as Database;
}

/** Rows written through one handle (what Turso bills), as libSQL reports them with each result. */
export type WriteMeter = { rowsWritten: number };

/**
 * Count the rows each statement and batch changed, from the results that come back anyway: no
 * statement of its own. Statements inside an interactive transaction are not counted (none of
 * the request paths use one).
 */
function meterWrites(client: Client, meter: WriteMeter) {
  const execute = client.execute.bind(client) as (...args: unknown[]) => Promise<ResultSet>;
  const batch = client.batch.bind(client) as (...args: unknown[]) => Promise<ResultSet[]>;
  client.execute = (async (...args: unknown[]) => {
    const result = await execute(...args);
    meter.rowsWritten += result.rowsAffected;
    return result;
  }) as Client["execute"];
  client.batch = (async (...args: unknown[]) => {
    const results = await batch(...args);
    for (const r of results) meter.rowsWritten += r?.rowsAffected ?? 0;
    return results;
  }) as Client["batch"];
}
