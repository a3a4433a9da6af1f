import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

async function importFile(file: string, kind: string) {
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

// Points-changing kinds (balances, transactions) go through the API: test/node/import-migration.test.ts.
describe("import script: members (database)", () => {
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
