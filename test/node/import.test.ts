import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without type declarations
import { startLibsqlServer } from "../../scripts/libsql-server.mjs";
import { migrateDatabase } from "../../scripts/migrate";
import { database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";

const run = promisify(execFile);
let server: { url: string; close(): Promise<void> };
const authToken = `import-test-${Math.random().toString(36).slice(2)}`;
const dbEnv = () => ({ LIBSQL_URL: server.url, LIBSQL_AUTH_TOKEN: authToken });
let dir: string;
let programId: string;

async function importFile(file: string, kind = "transactions") {
  const { stdout } = await run(
    "npx",
    ["tsx", "scripts/import.ts", "--program", programId, "--kind", kind, "--file", file, "--batch", "2", "--quiet"],
    { env: { ...process.env, ...dbEnv() } },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

async function q(sql: string, args: unknown[] = []) {
  return (await database(dbEnv()).$client.execute({ sql, args: args as never })).rows;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "import-"));
  server = await startLibsqlServer({ dir, name: "import", port: 0, authToken });
  await migrateDatabase(server.url, authToken);
  const env = dbEnv();
  programId = (
    await createProgram({
      ctx: { env: env as never, db: database(env), requestId: "t" },
      input: { name: "Import", holdDays: 0, expiryDays: null },
    })
  ).programId;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("import script", () => {
  it("imports good rows, rejects bad ones with reasons, and a rerun adds nothing", async () => {
    const file = join(dir, "tx.csv");
    copyFileSync("test/fixtures/import-with-bad-rows.csv", file);
    const first = await importFile(file);
    expect(first).toMatchObject({ rows: 9, accepted: 4, rejected: 5, imported: 4, membersCreated: 3 });
    const errors = readFileSync(`${file}.errors.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.row.orderId).sort()).toEqual(["imp-3", "imp-5", "imp-6", "imp-7", "imp-8"]);
    expect(errors.find((e) => e.row.orderId === "imp-6").reason).toContain("currency");
    expect(errors.find((e) => e.row.orderId === "imp-3").reason).toContain("amount");

    const balances = await q(
      "SELECT external_id, points_balance, orders_count, lifetime_spend FROM members WHERE program_id = ? ORDER BY external_id",
      [programId],
    );
    expect(balances.map((r) => [r.external_id, Number(r.points_balance), Number(r.orders_count), Number(r.lifetime_spend)])).toEqual([
      ["alice", 165, 2, 16550],
      ["bob", 99, 1, 9900],
      ["dave", 310, 1, 31000],
    ]);
    const sums = await q(
      "SELECT m.id, m.points_balance AS b, (SELECT COALESCE(SUM(points),0) FROM ledger_entries l WHERE l.member_id = m.id) AS s FROM members m WHERE program_id = ?",
      [programId],
    );
    for (const r of sums) expect(Number(r.b)).toBe(Number(r.s));

    const again = await importFile(file);
    expect(again).toMatchObject({ imported: 0, skippedExisting: 4 });
    expect(Number((await q("SELECT COUNT(*) AS n FROM orders WHERE program_id = ?", [programId]))[0].n)).toBe(4);
  });

  it("resumes from its checkpoint after a crash without duplicates", async () => {
    const file = join(dir, "resume.ndjson");
    const rows = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({
        externalId: `r-${i % 3}`,
        orderId: `res-${i}`,
        amount: 1000 * (i + 1),
        currency: "USD",
        occurredAt: `2025-0${1 + (i % 9)}-01T00:00:00Z`,
      }),
    );
    writeFileSync(file, `${rows.join("\n")}\n{broken json\n`);
    // Simulate a crash after the first 4 lines had committed: their batch is in the database, the checkpoint says line 4.
    const { importTransactions } = await import("../../src/services/admin/bulk-import");
    const db = database(dbEnv());
    const program = (await q("SELECT * FROM programs WHERE id = ?", [programId]))[0];
    await importTransactions(
      db,
      {
        id: programId,
        currency: "USD",
        basePointsPerUnit: Number(program.base_points_per_unit),
        unitMinor: Number(program.unit_minor),
        holdDays: 0,
        expiryDays: null,
      } as never,
      rows.slice(0, 4).map((r) => JSON.parse(r)),
    );
    const { statSync } = await import("node:fs");
    writeFileSync(`${file}.checkpoint.json`, JSON.stringify({ fingerprint: `${statSync(file).size}:transactions:${programId}`, line: 4 }));
    const resumed = await importFile(file);
    expect(resumed).toMatchObject({ resumedAfterLine: 4, rows: 7, accepted: 6, rejected: 1, imported: 6 });
    expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
    expect(Number((await q("SELECT COUNT(*) AS n FROM orders WHERE order_id LIKE 'res-%'"))[0].n)).toBe(10);
  });

  it("imports members idempotently", async () => {
    const file = join(dir, "members.csv");
    writeFileSync(
      file,
      "externalId,email,name,birthday,tags,consentEmail\nm-1,m1@example.com,Mia,1991-02-03,vip|fan,true\nm-2,bad-email,Max,,,\nm-3,,Moe,1980-13-01,,\n",
    );
    const first = await importFile(file, "members");
    expect(first).toMatchObject({ accepted: 1, rejected: 2, imported: 1 });
    const again = await importFile(file, "members");
    expect(again).toMatchObject({ imported: 0, skippedExisting: 1 });
    const [m] = await q("SELECT tags, consent FROM members WHERE external_id = 'm-1'");
    expect(JSON.parse(String(m.tags))).toEqual(["vip", "fan"]);
    expect(JSON.parse(String(m.consent)).email).toBe(true);
  });
});
