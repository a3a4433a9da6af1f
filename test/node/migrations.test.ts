// CI's review of migrations (scripts/lib/migration-review.ts): no unreviewed in-place rebuild of a
// large table, no unreviewed contract step (dropping or renaming a column or table).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { largeTables, reviewMigrationSql, reviewMigrations } from "../../scripts/lib/migration-review";
import { migrationsFolder } from "../../scripts/migrate";

const large = new Set(["members", "ledger_entries", "audit_log"]);
// What drizzle-kit writes for an ALTER SQLite cannot do in place (a new CHECK): the rebuild of 0002, on another table.
const drizzleRebuild = (table: string) =>
  readFileSync(join(migrationsFolder, "0002_rule_budget_guard.sql"), "utf8").replaceAll("earning_rules", table);

describe("migration review", () => {
  it("passes every committed migration", () => {
    expect(reviewMigrations(migrationsFolder)).toEqual([]);
  });

  it("rejects drizzle-kit's table-copy ALTER of a large table unless marked reviewed", () => {
    expect(reviewMigrationSql("0099_x.sql", drizzleRebuild("members"), large)).toEqual([
      expect.stringContaining("rebuilds the large table members in place"),
    ]);
    const marked = `-- reviewed-rebuild: members 40k rows, run in the maintenance window\n${drizzleRebuild("members")}`;
    expect(reviewMigrationSql("0099_x.sql", marked, large)).toEqual([]);
    // A marker for another table, or without a reason, does not count.
    expect(reviewMigrationSql("0099_x.sql", `-- reviewed-rebuild: ledger_entries ok\n${drizzleRebuild("members")}`, large)).toHaveLength(1);
    expect(reviewMigrationSql("0099_x.sql", `-- reviewed-rebuild: members\n${drizzleRebuild("members")}`, large)).toHaveLength(1);
  });

  it("lets a small configuration table be rebuilt", () => {
    expect(reviewMigrationSql("0099_x.sql", drizzleRebuild("tiers"), large)).toEqual([]);
  });

  it("treats every table with a member_id column as large (from the newest schema snapshot), and the event logs", () => {
    const tables = largeTables(migrationsFolder);
    for (const t of ["members", "ledger_entries", "point_lots", "orders", "webhook_deliveries", "outbox_events", "audit_log"])
      expect(tables.has(t), t).toBe(true);
    for (const t of ["tiers", "earning_rules", "rewards", "programs"]) expect(tables.has(t), t).toBe(false);
  });

  it("rejects unreviewed contract steps: DROP COLUMN, RENAME COLUMN, DROP TABLE", () => {
    for (const sql of [
      "ALTER TABLE `members` DROP COLUMN `phone`;",
      "ALTER TABLE `tiers` RENAME COLUMN `name` TO `title`;",
      "DROP TABLE `segments`;",
    ])
      expect(reviewMigrationSql("0099_x.sql", sql, large), sql).toHaveLength(1);
    expect(
      reviewMigrationSql(
        "0099_x.sql",
        "-- reviewed-contract: members phone unread since 0.9\nALTER TABLE `members` DROP COLUMN `phone`;",
        large,
      ),
    ).toEqual([]);
  });
});
