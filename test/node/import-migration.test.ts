// The migration CLI against the real local stack (scripts/dev.ts: libSQL server, migrations,
// wrangler dev with the Worker and its Durable Objects): opening balances and past purchases go
// through the bulk admin routes with an admin key. Killed with SIGKILL mid-import and run again,
// the import ends with every member's ledger summing to the file's total for them, nothing twice.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../scripts/bench/stack";
import { database } from "../../src/db/client";
import { FREE_FORM_LIMITS } from "../../src/domain/members/free-form";
import { createProgram } from "../../src/services/access/programs";

let stack: Stack;
let dir: string;
let programId: string;
let adminKey: string;

function cli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  // node --import tsx (not npx): the child's pid is the importer itself, so a SIGKILL hits it.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/import.ts", ...args, "--quiet"], {
    env: { ...process.env, LOYALTY_ADMIN_KEY: adminKey, LOYALTY_URL: stack.apiUrl, ...stack.dbEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

async function runCli(args: string[]) {
  const result = await cli(args).done;
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

const q = async (sql: string, args: unknown[] = []) => (await database(stack.dbEnv).$client.execute({ sql, args: args as never })).rows;

beforeAll(async () => {
  stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: "1000000" } });
  dir = mkdtempSync(join(tmpdir(), "import-migration-"));
  const created = await createProgram({
    ctx: { env: stack.dbEnv as never, db: database(stack.dbEnv), requestId: "import-migration" },
    input: { name: "Migration", holdDays: 0, expiryDays: null },
  });
  programId = created.programId;
  adminKey = created.keys.admin;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("npm run import (through the API)", () => {
  it("a balances import killed with SIGKILL and run again ends with Σ ledger = the file's total for every member", async () => {
    const members = 240;
    const day = 86_400_000;
    const memberFile = join(dir, "members.csv");
    writeFileSync(memberFile, `externalId,name\n${Array.from({ length: members }, (_, i) => `legacy-${i},Member ${i}`).join("\n")}\n`);
    expect(await runCli(["--kind", "members", "--file", memberFile])).toMatchObject({ imported: members });

    const expected = new Map<string, number>();
    const lines = ["externalId,legacyId,points,earnedAt,expiresAt,lifetimeEarned"];
    for (let i = 0; i < members; i++) {
      const externalId = `legacy-${i}`;
      let total = 0;
      for (let lot = 0; lot <= i % 4; lot++) {
        const points = 10 + ((i * 7 + lot * 13) % 500);
        total += points;
        const earnedAt = new Date(Date.now() - (400 - lot * 50) * day).toISOString();
        const expiresAt = lot % 2 ? new Date(Date.now() + (100 + lot) * day).toISOString() : "";
        lines.push(`${externalId},OLD-${i},${points},${earnedAt},${expiresAt},${lot === 0 ? 100_000 : ""}`);
      }
      expected.set(externalId, total);
    }
    const file = join(dir, "balances.csv");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const checkpoint = `${file}.checkpoint.json`;

    // Small batches, killed as soon as the first ones are answered.
    const first = cli(["--kind", "balances", "--file", file, "--batch", "12"]);
    for (let i = 0; i < 600 && !existsSync(checkpoint) && first.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.code, `the import finished before it was killed: ${killed.stdout}`).toBeNull();
    const stoppedAt = JSON.parse(readFileSync(checkpoint, "utf8")).line;
    expect(stoppedAt).toBeGreaterThan(1);
    expect(stoppedAt).toBeLessThan(lines.length);

    const resumed = await runCli(["--kind", "balances", "--file", file, "--batch", "12"]);
    expect(resumed).toMatchObject({
      resumedAfterLine: stoppedAt,
      rejected: 0,
      members,
      points: [...expected.values()].reduce((a, b) => a + b),
    });
    expect(existsSync(checkpoint)).toBe(false);

    const check = async () => {
      const rows = await q(
        `SELECT m.external_id AS e, m.points_balance AS b, m.lifetime_earned AS le,
           (SELECT COALESCE(SUM(points), 0) FROM ledger_entries l WHERE l.member_id = m.id) AS s,
           (SELECT COUNT(*) FROM ledger_entries l WHERE l.member_id = m.id AND l.source_type = 'migration') AS n,
           (SELECT COALESCE(SUM(remaining), 0) FROM point_lots p WHERE p.member_id = m.id) AS lots
         FROM members m WHERE m.program_id = ?`,
        [programId],
      );
      expect(rows).toHaveLength(members);
      for (const r of rows) {
        const i = Number(String(r.e).slice("legacy-".length));
        const want = expected.get(String(r.e));
        expect([r.e, Number(r.s), Number(r.b), Number(r.lots), Number(r.n), Number(r.le)]).toEqual([
          r.e,
          want,
          want,
          want,
          (i % 4) + 1,
          100_000,
        ]);
      }
    };
    await check();

    // Run again from the start: every member is a replay, nothing new is written.
    const again = await runCli(["--kind", "balances", "--file", file, "--batch", "50"]);
    expect(again).toMatchObject({ members, imported: 0, replayed: members, rejected: 0 });
    await check();
  }, 240_000);

  it("transactions need --award; rows are checked, bad ones reported with their line, and a re-run adds nothing", async () => {
    const file = join(dir, "tx.csv");
    writeFileSync(file, readFileSync("test/fixtures/import-with-bad-rows.csv", "utf8"));
    const missing = await cli(["--kind", "transactions", "--file", file]).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--award is required");

    const first = await runCli(["--kind", "transactions", "--award", "rules", "--file", file, "--batch", "2"]);
    expect(first).toMatchObject({ rows: 9, accepted: 4, rejected: 5, orders: 4 });
    const errors = readFileSync(`${file}.errors.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.row.orderId).sort()).toEqual(["imp-3", "imp-5", "imp-6", "imp-7", "imp-8"]);
    expect(errors.find((e) => e.row.orderId === "imp-6").reason).toContain("currency");
    expect(errors.find((e) => e.row.orderId === "imp-3")).toMatchObject({ line: 4, reason: expect.stringContaining("amount") });
    const balances = await q(
      "SELECT external_id, points_balance, orders_count, lifetime_spend FROM members WHERE program_id = ? AND external_id IN ('alice', 'bob', 'dave') ORDER BY external_id",
      [programId],
    );
    expect(balances.map((r) => [r.external_id, Number(r.points_balance), Number(r.orders_count), Number(r.lifetime_spend)])).toEqual([
      ["alice", 165, 2, 16550],
      ["bob", 99, 1, 9900],
      ["dave", 310, 1, 31000],
    ]);
    const again = await runCli(["--kind", "transactions", "--award", "rules", "--file", file, "--batch", "3"]);
    // Each member's part was written before: answered as a replay, nothing new.
    expect(again).toMatchObject({ members: 3, imported: 0, replayed: 3 });
    expect(Number((await q("SELECT COUNT(*) AS n FROM orders WHERE program_id = ?", [programId]))[0].n)).toBe(4);
  }, 120_000);

  it("imports members idempotently, with their profile and consent", async () => {
    const file = join(dir, "members-profile.csv");
    writeFileSync(
      file,
      "externalId,email,name,birthday,tags,consentEmail\nm-1,m1@example.com,Mia,1991-02-03,vip|fan,true\nm-2,bad-email,Max,,,\nm-3,,Moe,1980-13-01,,\n",
    );
    const first = await runCli(["--kind", "members", "--file", file]);
    expect(first).toMatchObject({ accepted: 1, rejected: 2, imported: 1 });
    const again = await runCli(["--kind", "members", "--file", file]);
    expect(again).toMatchObject({ imported: 0, skippedExisting: 1 });
    const [m] = await q("SELECT tags, consent FROM members WHERE program_id = ? AND external_id = 'm-1'", [programId]);
    expect(JSON.parse(String(m.tags))).toEqual(["vip", "fan"]);
    expect(JSON.parse(String(m.consent)).email).toBe(true);
  }, 120_000);

  it("rejects member rows over the free-form limits, naming the limit", async () => {
    const file = join(dir, "too-many-tags.ndjson");
    const tags = Array.from({ length: FREE_FORM_LIMITS.memberTags + 1 }, (_, i) => `t${i}`);
    writeFileSync(
      file,
      `${[
        { externalId: "tags-1", tags },
        { externalId: "tags-2", tags: ["x".repeat(FREE_FORM_LIMITS.tagLength + 1)] },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n")}\n`,
    );
    expect(await runCli(["--kind", "members", "--file", file])).toMatchObject({ rows: 2, rejected: 2, imported: 0 });
    const reasons = readFileSync(`${file}.errors.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).reason as string);
    expect(reasons[0]).toContain(`at most ${FREE_FORM_LIMITS.memberTags} tags`);
    expect(reasons[1]).toContain(`a tag is at most ${FREE_FORM_LIMITS.tagLength} characters`);
  }, 120_000);

  it("a balances file with a bad row rejects all of that member's rows, and other members go in", async () => {
    const members = join(dir, "few.csv");
    writeFileSync(members, "externalId\nbad-1\ngood-1\n");
    await runCli(["--kind", "members", "--file", members]);
    const file = join(dir, "few-balances.csv");
    writeFileSync(
      file,
      "externalId,points,earnedAt\nbad-1,100,2025-01-01T00:00:00Z\nbad-1,-5,2025-02-01T00:00:00Z\ngood-1,70,2025-03-01T00:00:00Z\nnobody,5,2025-03-01T00:00:00Z\n",
    );
    const summary = await runCli(["--kind", "balances", "--file", file]);
    expect(summary).toMatchObject({ rows: 4, accepted: 1, rejected: 3, members: 1, points: 70 });
    const errors = readFileSync(`${file}.errors.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.line)).toEqual([2, 3, 5]);
    expect(errors[0].reason).toContain("points");
    expect(errors[2].reason).toContain("not_found");
    const [bad] = await q("SELECT points_balance FROM members WHERE program_id = ? AND external_id = 'bad-1'", [programId]);
    expect(Number(bad.points_balance)).toBe(0);
  }, 120_000);
});
