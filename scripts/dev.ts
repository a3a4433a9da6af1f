/**
 * `npm run dev`: the whole local stack in one command — the libSQL server (Hrana over
 * HTTP, data in .data/), the committed migrations, then `wrangler dev` on 127.0.0.1:8787
 * with cron testing. Ctrl-C stops everything; the next start reuses .data/. Extra arguments
 * go to `wrangler dev`, e.g. another Worker entry: `npm run dev -- scripts/bench/worker.ts`.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
// @ts-expect-error plain ESM script without type declarations
import { startLibsqlServer } from "./libsql-server.mjs";
import { migrateDatabase } from "./migrate";

const root = fileURLToPath(new URL("..", import.meta.url));
const dbPort = Number(process.env.LIBSQL_PORT ?? 8080);
const apiPort = Number(process.env.PORT ?? 8787);

mkdirSync(`${root}/.data`, { recursive: true });
mkdirSync(`${root}/.config`, { recursive: true });
const server = await startLibsqlServer({
  dir: `${root}/.data`,
  name: process.env.LIBSQL_DB ?? "loyalty",
  port: dbPort,
  enableFaults: process.env.LIBSQL_FAULTS === "1",
});
console.log(`libSQL server: ${server.url} (data in .data/)`);
await migrateDatabase(server.url);
console.log("migrations applied");

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
  await server.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
