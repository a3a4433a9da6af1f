/**
 * `npm run dev`: the whole local stack in one command — the libSQL server (Hrana over
 * HTTP, data in .data/), the committed migrations, then `wrangler dev` on 127.0.0.1:8787
 * with cron testing. Ctrl-C stops everything; the next start reuses .data/. Extra arguments
 * go to `wrangler dev`, e.g. another Worker entry: `npm run dev -- scripts/bench/worker.ts`.
 *
 * The libSQL server requires its token (generated once in .data/libsql-token, or
 * LIBSQL_SERVER_AUTH_TOKEN): the Worker gets it as LIBSQL_AUTH_TOKEN through an env file
 * readable only by this user (not `--var`, which would show it in the process list).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error plain ESM script without type declarations
import { localAuthToken, startLibsqlServer } from "./libsql-server.mjs";
import { migrateDatabase } from "./migrate";

const root = fileURLToPath(new URL("..", import.meta.url));
const dbPort = Number(process.env.LIBSQL_PORT ?? 8080);
const apiPort = Number(process.env.PORT ?? 8787);
const dataDir = join(root, ".data");

mkdirSync(dataDir, { recursive: true });
mkdirSync(`${root}/.config`, { recursive: true });
const authToken: string = process.env.LIBSQL_SERVER_AUTH_TOKEN || localAuthToken(dataDir);
const server = await startLibsqlServer({
  dir: dataDir,
  name: process.env.LIBSQL_DB ?? "loyalty",
  port: dbPort,
  authToken,
  enableFaults: process.env.LIBSQL_FAULTS === "1",
});
console.log(`libSQL server: ${server.url} (data in .data/, token required)`);
await migrateDatabase(server.url, authToken);
console.log("migrations applied");

/**
 * `--env-file` replaces wrangler's own lookup of .dev.vars (or .env, .env.local), so those are
 * passed first, as wrangler would have read them, and the file with the token last.
 */
const secretsDir = mkdtempSync(join(tmpdir(), "loyalty-dev-"));
const secretsFile = join(secretsDir, "libsql.env");
writeFileSync(secretsFile, `LIBSQL_AUTH_TOKEN=${authToken}\n`, { mode: 0o600 });
const userEnvFiles = existsSync(join(root, ".dev.vars")) ? [".dev.vars"] : [".env", ".env.local"];
const envFiles = [...userEnvFiles.map((f) => join(root, f)).filter((f) => existsSync(f)), secretsFile];

const wrangler = spawn(
  `${root}/node_modules/.bin/wrangler`,
  [
    "dev",
    // First, so a script path (another Worker entry, e.g. the bench's) is not read as a --var value.
    ...process.argv.slice(2),
    "--ip",
    "127.0.0.1",
    "--port",
    String(apiPort),
    "--test-scheduled",
    "--var",
    `LIBSQL_URL:${server.url}`,
    ...envFiles.flatMap((f) => ["--env-file", f]),
  ],
  {
    cwd: root,
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: `${root}/.config` },
  },
);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  rmSync(secretsDir, { recursive: true, force: true });
  await server.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
