/**
 * What a migration must not do unreviewed: rebuild a large table in place. drizzle-kit turns many
 * SQLite ALTERs (a new CHECK, a changed default, a dropped NOT NULL…) into "create __new_<t>, copy
 * every row, drop <t>, rename": on a table with millions of rows that is minutes of writes, every
 * row billed, while the serving Worker waits on the lock. Rebuilding a small configuration table is
 * fine.
 *
 * Large: a table with a member_id column (it grows with members and their activity) or one of
 * LARGE_WITHOUT_MEMBER_ID. A reviewed rebuild carries a line `-- reviewed-rebuild: <table> <why>`.
 *
 * Also refused unreviewed (`-- reviewed-contract: <table> <why>`): dropping or renaming a column or
 * a table, the contract step of an expand/contract change, which the previous Worker version (still
 * serving during a deploy, and after a `wrangler rollback`) may still read.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Tables without a member_id column that still grow with members or traffic. */
const LARGE_WITHOUT_MEMBER_ID = [
  "members",
  "audit_log",
  "outbox_events",
  "webhook_deliveries",
  "ledger_requests",
  "partner_events",
  "messages",
];

type Snapshot = { tables: Record<string, { columns: Record<string, unknown> }> };

/** Large tables as of the newest schema snapshot in `folder`/meta. */
export function largeTables(folder: string): Set<string> {
  const snapshots = readdirSync(join(folder, "meta"))
    .filter((f) => /^\d{4}_snapshot\.json$/.test(f))
    .sort();
  const large = new Set(LARGE_WITHOUT_MEMBER_ID);
  const latest = snapshots.at(-1);
  if (!latest) return large;
  const snapshot = JSON.parse(readFileSync(join(folder, "meta", latest), "utf8")) as Snapshot;
  for (const [name, table] of Object.entries(snapshot.tables)) if ("member_id" in table.columns) large.add(name);
  return large;
}

const reviewed = (sql: string, kind: "rebuild" | "contract", table: string) =>
  new RegExp(`^--[ \\t]*reviewed-${kind}:[ \\t]*\`?${table}\`?[ \\t]+\\S`, "m").test(sql);

/** Problems in one migration's SQL (empty: fine). */
export function reviewMigrationSql(name: string, sql: string, large: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const rebuilt = new Set(
    [...sql.matchAll(/CREATE TABLE\s+[`"]?__new_(\w+)[`"]?/gi)]
      .map((m) => m[1])
      .filter((t) => new RegExp(`DROP TABLE\\s+[\`"]?${t}[\`"]?\\s*;`, "i").test(sql)),
  );
  for (const table of rebuilt)
    if (large.has(table) && !reviewed(sql, "rebuild", table))
      problems.push(
        `${name}: rebuilds the large table ${table} in place (copy every row); add "-- reviewed-rebuild: ${table} <why>" once reviewed`,
      );

  for (const m of sql.matchAll(/ALTER TABLE\s+[`"]?(\w+)[`"]?\s+(DROP COLUMN|RENAME COLUMN|RENAME TO)\b/gi)) {
    const table = m[1];
    if (table.startsWith("__new_") && m[2].toUpperCase() === "RENAME TO") continue; // the last step of a rebuild
    if (!reviewed(sql, "contract", table))
      problems.push(
        `${name}: ${m[2].toUpperCase()} on ${table} is a contract step; add "-- reviewed-contract: ${table} <why>" once no serving version reads it`,
      );
  }
  for (const m of sql.matchAll(/DROP TABLE\s+(?:IF EXISTS\s+)?[`"]?(\w+)[`"]?/gi)) {
    const table = m[1];
    if (rebuilt.has(table) || reviewed(sql, "contract", table)) continue;
    problems.push(`${name}: drops the table ${table}; add "-- reviewed-contract: ${table} <why>" once no serving version reads it`);
  }
  return problems;
}

/** Problems in every migration of `folder` (schema/migrations). */
export function reviewMigrations(folder: string): string[] {
  const large = largeTables(folder);
  return readdirSync(folder)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => reviewMigrationSql(f, readFileSync(join(folder, f), "utf8"), large));
}
