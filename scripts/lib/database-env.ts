import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Same name as `AUTH_TOKEN_FILE` in scripts/libsql-server.mjs. */
const AUTH_TOKEN_FILE = "libsql-token";

const isLoopback = (url: string) => {
  try {
    return /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/.test(new URL(url).hostname);
  } catch {
    return false;
  }
};

/**
 * The database the CLI scripts (migrate, seed, import, program:create) talk to: LIBSQL_URL,
 * default the local server of `npm run dev` (http://127.0.0.1:$LIBSQL_PORT, 8080), and
 * LIBSQL_AUTH_TOKEN — for a local server, by default the token it keeps in .data/libsql-token
 * (or $LIBSQL_SERVER_DIR), so they work with no flags. The local token is never sent elsewhere.
 */
export function databaseEnv(env: NodeJS.ProcessEnv = process.env): { LIBSQL_URL: string; LIBSQL_AUTH_TOKEN?: string } {
  const url = env.LIBSQL_URL || `http://127.0.0.1:${env.LIBSQL_PORT || 8080}`;
  if (env.LIBSQL_AUTH_TOKEN || !isLoopback(url)) return { LIBSQL_URL: url, LIBSQL_AUTH_TOKEN: env.LIBSQL_AUTH_TOKEN || undefined };
  const file = join(env.LIBSQL_SERVER_DIR ? resolve(env.LIBSQL_SERVER_DIR) : join(root, ".data"), AUTH_TOKEN_FILE);
  return { LIBSQL_URL: url, LIBSQL_AUTH_TOKEN: existsSync(file) ? readFileSync(file, "utf8").trim() : undefined };
}
