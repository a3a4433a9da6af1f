/**
 * `npm run deploy` — production: apply pending migrations to Turso (forward only), then deploy
 * `[env.production]` of wrangler.toml with LIBSQL_URL passed as a var.
 *
 *   LIBSQL_URL=libsql://<db>-<org>.turso.io LIBSQL_AUTH_TOKEN=… npm run deploy [-- --dry-run]
 *
 * Refuses, before touching anything: no LIBSQL_URL, or one on this machine (a production Worker
 * never points at 127.0.0.1); a database whose applied migrations are not a prefix of this
 * checkout's (it is ahead: roll back the Worker with `wrangler rollback`, never by deploying older
 * code over a newer schema); a migration that rebuilds a large table in place without review
 * (scripts/lib/migration-review.ts). Every migration is written to be safe while the previous
 * Worker version serves (expand/contract, README → Operations), so migrating first is safe.
 * `--dry-run` checks all of this and builds the bundle, without migrating or uploading.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@libsql/client";
import { reviewMigrations } from "./lib/migration-review";
import { migrateDatabase, migrationsFolder } from "./migrate";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { "dry-run": { type: "boolean", default: false } } });
const dryRun = values["dry-run"];

function fail(message: string): never {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

const isLocal = (url: string) => {
  try {
    return /^(127(\.\d{1,3}){3}|localhost|\[::1\]|0\.0\.0\.0)$/.test(new URL(url.replace(/^libsql:\/\//, "https://")).hostname);
  } catch {
    return true;
  }
};

const url = process.env.LIBSQL_URL?.trim();
const authToken = process.env.LIBSQL_AUTH_TOKEN?.trim();
if (!url) fail("LIBSQL_URL is not set: the production database URL (libsql://<db>-<org>.turso.io) is required");
if (isLocal(url)) fail(`LIBSQL_URL is ${url}: a production Worker never points at a local database`);
if (!/^(libsql|https):\/\//.test(url)) fail("LIBSQL_URL must be libsql:// or https://");
if (!authToken) fail("LIBSQL_AUTH_TOKEN is not set: the Turso token the migrations run with");

const problems = reviewMigrations(migrationsFolder);
if (problems.length > 0) fail(`migrations need review:\n  ${problems.join("\n  ")}`);

type Journal = { entries: Array<{ tag: string; when: number }> };
const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as Journal;

/** The migrations the database has applied must be this checkout's first ones: forward only. */
async function checkForwardOnly() {
  const client = createClient({ url: url!.replace(/^libsql:\/\//, "https://"), authToken });
  try {
    const exists = await client.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'");
    if (exists.rows.length === 0) return { applied: 0 };
    const rows = (await client.execute("SELECT created_at FROM __drizzle_migrations ORDER BY created_at")).rows;
    const applied = rows.map((r) => Number(r.created_at));
    const ours = journal.entries.map((e) => e.when);
    if (applied.length > ours.length || applied.some((when, i) => when !== ours[i]))
      fail(
        `the database has applied migrations this checkout does not have (${applied.length} applied, ${ours.length} here). ` +
          "Deploy the newer code, or roll the Worker back with `npx wrangler rollback --env production`; the schema is never rolled back.",
      );
    return { applied: applied.length };
  } finally {
    client.close();
  }
}

function wrangler(args: string[]) {
  const result = spawnSync(join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) fail(`wrangler ${args[0]} failed (exit ${result.status})`);
}

const { applied } = await checkForwardOnly();
const pending = journal.entries.slice(applied).map((e) => e.tag);
console.log(`database: ${applied} migrations applied, ${pending.length} pending${pending.length ? ` (${pending.join(", ")})` : ""}`);

const deployArgs = ["deploy", "--env", "production", "--var", `LIBSQL_URL:${url}`];
if (dryRun) {
  wrangler([...deployArgs, "--dry-run"]);
  console.log("dry run: nothing migrated, nothing uploaded");
} else {
  if (pending.length > 0) {
    await migrateDatabase(url, authToken);
    console.log("migrations applied");
  }
  wrangler(deployArgs);
  console.log("deployed; watch GET /v1/health/deep and the queries in README → Operations");
}
