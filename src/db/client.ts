import { type Client, createClient } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "../../schema";
import type { Env } from "../env";

export type Database = LibSQLDatabase<typeof schema> & { $client: Client };

// One HTTP client per isolate and URL: it holds no socket, only configuration.
const clients = new Map<string, Database>();

export function database(env: Pick<Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">): Database {
  const key = `${env.LIBSQL_URL}|${env.LIBSQL_AUTH_TOKEN ?? ""}`;
  let db = clients.get(key);
  if (!db) {
    // libsql:// is Turso's scheme; over HTTP from a Worker it is https://.
    const url = env.LIBSQL_URL.replace(/^libsql:\/\//, "https://");
    db = drizzle(createClient({ url, authToken: env.LIBSQL_AUTH_TOKEN }), { schema }) as Database;
    clients.set(key, db);
  }
  return db;
}

export { schema };
