import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { databaseEnv } from "./lib/database-env";

export const migrationsFolder = fileURLToPath(new URL("../schema/migrations", import.meta.url));

/** Apply the committed drizzle migrations (never `push`): the same on local libSQL and Turso. */
export async function migrateDatabase(url: string, authToken?: string) {
  const client = createClient({ url: url.replace(/^libsql:\/\//, "https://"), authToken });
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    client.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { LIBSQL_URL, LIBSQL_AUTH_TOKEN } = databaseEnv();
  await migrateDatabase(LIBSQL_URL, LIBSQL_AUTH_TOKEN);
  console.log(`migrations applied to ${LIBSQL_URL}`);
}
