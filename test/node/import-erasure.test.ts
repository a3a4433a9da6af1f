import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without type declarations
import { startLibsqlServer } from "../../scripts/libsql-server.mjs";
import { migrateDatabase } from "../../scripts/migrate";
import { database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";
import { importMembers, importTransactions } from "../../src/services/admin/bulk-import";
import { ImportMemberRow } from "../../src/services/admin/import-rows";
import { distinctivePerson, needlesOf, type Person, searchWholeDatabase } from "../support/whole-database-search";

// The local server always requires a token; the import CLI reads it from LIBSQL_AUTH_TOKEN.
const authToken = `import-erasure-test-${Math.random().toString(36).slice(2)}`;
const dbEnv = () => ({ LIBSQL_URL: server.url, LIBSQL_AUTH_TOKEN: authToken });

const run = promisify(execFile);
let server: { url: string; close(): Promise<void> };
let dir: string;
let programId: string;

async function importFile(file: string, kind: string) {
  const { stdout } = await run("npx", ["tsx", "scripts/import.ts", "--program", programId, "--kind", kind, "--file", file, "--quiet"], {
    env: { ...process.env, ...dbEnv() },
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

async function q(sql: string, args: unknown[] = []) {
  return (await database(dbEnv()).$client.execute({ sql, args: args as never })).rows as Array<Record<string, unknown>>;
}

const search = (person: Person) => searchWholeDatabase(q, needlesOf(person));
const ndjson = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

/**
 * The copies the Worker's paths make of a member (the CLI cannot run them): the registration
 * event, a partner upsert's stored result, activity attributes in the ledger, a stored answer,
 * feedback, a webhook delivery, a rendered message, an audit entry.
 */
async function copiesElsewhere(memberId: string, person: Person) {
  const now = new Date().toISOString();
  const view = JSON.stringify({ id: memberId, externalId: person.externalId, email: person.email, phone: person.phone, name: person.name });
  const statements: Array<[string, unknown[]]> = [
    [
      "INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at) VALUES (?, ?, ?, 'member.created', ?, ?)",
      [`evt_${memberId}`, programId, memberId, JSON.stringify({ memberId, externalId: person.externalId }), now],
    ],
    [
      "INSERT INTO partner_events (program_id, event_id, type, member_id, status, result, created_at) VALUES (?, ?, 'member.upsert', ?, 201, ?, ?)",
      [programId, `crm-${memberId}`, memberId, JSON.stringify({ created: true, member: JSON.parse(view) }), now],
    ],
    [
      `INSERT INTO ledger_entries (id, program_id, member_id, type, points, reason, source_type, source_id, request_key, metadata, created_at)
       VALUES (?, ?, ?, 'earn', 0, ?, 'activity', 'visit', ?, ?, ?)`,
      [
        `led_${memberId}`,
        programId,
        memberId,
        `Visit with ${person.name}`,
        `act-${memberId}`,
        JSON.stringify({ attributes: { contact: person.email } }),
        now,
      ],
    ],
    [
      `INSERT INTO ledger_requests (program_id, idempotency_key, member_id, operation, request_hash, status, response, created_at)
       VALUES (?, ?, ?, 'activity', 'h', 201, ?, ?)`,
      [programId, `act-${memberId}`, memberId, JSON.stringify({ entries: [{ reason: `Visit with ${person.name}` }] }), now],
    ],
    [
      "INSERT INTO feedback (id, program_id, member_id, kind, text, tags, created_at) VALUES (?, ?, ?, 'survey', ?, ?, ?)",
      [`fb_${memberId}`, programId, memberId, `${person.name} says hi`, JSON.stringify([person.phone]), now],
    ],
    [
      `INSERT INTO webhooks (id, program_id, url, event_types, secret, status, created_at, updated_at)
       VALUES (?, ?, 'https://partner.example/hook', '["*"]', 'whsec_x', 'active', ?, ?) ON CONFLICT DO NOTHING`,
      [`wh_${programId}`, programId, now, now],
    ],
    [
      `INSERT INTO webhook_deliveries (id, program_id, webhook_id, event_id, event_type, payload, status, created_at)
       VALUES (?, ?, ?, ?, 'member.created', ?, 'delivered', ?)`,
      [
        `dlv_${memberId}`,
        programId,
        `wh_${programId}`,
        `evt_${memberId}`,
        JSON.stringify({ id: `evt_${memberId}`, data: { memberId, externalId: person.externalId } }),
        now,
      ],
    ],
    [
      "INSERT INTO messages (id, program_id, member_id, channel, body, status, created_at) VALUES (?, ?, ?, 'email', ?, 'pending', ?)",
      [`msg_${memberId}`, programId, memberId, `Hi ${person.name} <${person.email}>`, now],
    ],
    [
      `INSERT INTO audit_log (id, program_id, action, entity_type, entity_id, before, after, created_at)
       VALUES (?, ?, 'member.updated', 'member', ?, NULL, ?, ?)`,
      [`aud_${memberId}`, programId, memberId, JSON.stringify({ status: "active", email: person.email }), now],
    ],
  ];
  for (const [sql, args] of statements) await q(sql, args);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "import-erasure-"));
  server = await startLibsqlServer({ dir, name: "import-erasure", port: 0, authToken });
  await migrateDatabase(server.url, authToken);
  const env = dbEnv();
  programId = (
    await createProgram({
      ctx: { env: env as never, db: database(env), requestId: "t" },
      input: { name: "Erasures", holdDays: 0, expiryDays: null },
    })
  ).programId;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("import: erasures", () => {
  it("erases by externalId and leaves nothing of the person in the database; re-applies by memberId after a restore", async () => {
    const gone = distinctivePerson();
    const kept = distinctivePerson();
    const members = join(dir, "members.ndjson");
    writeFileSync(
      members,
      ndjson(
        [gone, kept].map((p) => ({
          externalId: p.externalId,
          email: p.email,
          phone: p.phone,
          name: p.name,
          tags: [`fan-${p.externalId}`],
        })),
      ),
    );
    // Members as the members import writes them (its CLI goes through the API; this test has no Worker).
    const rows = readFileSync(members, "utf8")
      .trim()
      .split("\n")
      .map((l) => ImportMemberRow.parse(JSON.parse(l)));
    expect(await importMembers(database(dbEnv()), programId, rows)).toMatchObject({ inserted: 2 });
    // A purchase on the ledger (through the import's own code, without another CLI start).
    const [program] = await q("SELECT * FROM programs WHERE id = ?", [programId]);
    const purchase = {
      externalId: gone.externalId,
      orderId: `o-${Date.now()}`,
      amount: 5000,
      currency: "USD",
      occurredAt: "2026-01-05T10:00:00Z",
    };
    const programRow = {
      id: programId,
      currency: "USD",
      basePointsPerUnit: Number(program.base_points_per_unit),
      unitMinor: 100,
      holdDays: 0,
    };
    expect(await importTransactions(database(dbEnv()), programRow as never, [purchase])).toMatchObject({ imported: 1 });
    const [{ id: memberId }] = await q("SELECT id FROM members WHERE external_id = ?", [gone.externalId]);
    await copiesElsewhere(String(memberId), gone);
    const before = new Set((await search(gone)).hits.map((h) => h.table));
    expect([...before].sort()).toEqual(
      [
        "audit_log",
        "feedback",
        "ledger_entries",
        "ledger_requests",
        "members",
        "messages",
        "outbox_events",
        "partner_events",
        "webhook_deliveries",
      ].sort(),
    );

    const erasures = join(dir, "erasures.ndjson");
    writeFileSync(erasures, ndjson([{ externalId: gone.externalId }, { externalId: "nobody-here" }, { memberId: "x", externalId: "y" }]));
    const summary = await importFile(erasures, "erasures");
    expect(summary).toMatchObject({ rows: 3, erased: 1, rejected: 2 });
    const errors = readFileSync(`${erasures}.errors.ndjson`, "utf8").trim().split("\n");
    expect(errors).toHaveLength(2);

    const after = await search(gone);
    expect(after.tables).toContain("erased_members");
    expect(after.hits).toEqual([]);
    expect((await search(kept)).hits.map((h) => h.table)).toContain("members");
    const [row] = await q(
      "SELECT status, points_balance, (SELECT SUM(points) FROM ledger_entries WHERE member_id = ?) AS s FROM members WHERE id = ?",
      [memberId, memberId],
    );
    expect(row.status).toBe("erased");
    expect(Number(row.points_balance)).toBe(Number(row.s));
    expect(Number(row.points_balance)).toBe(50);

    // A point-in-time restore to before the erasure brings the person back, tombstone gone too…
    const tombstones = await q("SELECT member_id AS memberId FROM erased_members WHERE program_id = ?", [programId]);
    expect(tombstones).toEqual([{ memberId }]);
    await q("UPDATE members SET status = 'active', external_id = ?, email = ?, phone = ?, name = ?, erased_at = NULL WHERE id = ?", [
      gone.externalId,
      gone.email,
      gone.phone,
      gone.name,
      memberId,
    ]);
    await q("DELETE FROM erased_members");
    await q("DELETE FROM outbox_events WHERE member_id = ?", [memberId]);
    await q("DELETE FROM webhook_deliveries WHERE event_id = ?", [`evt_${memberId}`]);
    await q("DELETE FROM partner_events WHERE member_id = ?", [memberId]);
    await q("DELETE FROM messages WHERE member_id = ?", [memberId]);
    await q("DELETE FROM audit_log WHERE entity_id = ?", [memberId]);
    await q("DELETE FROM ledger_entries WHERE id = ?", [`led_${memberId}`]);
    await q("DELETE FROM ledger_requests WHERE member_id = ?", [memberId]);
    await q("DELETE FROM feedback WHERE member_id = ?", [memberId]);
    await copiesElsewhere(String(memberId), gone);
    expect((await search(gone)).hits.length).toBeGreaterThan(0);
    // …and importing the tombstones exported before it erases them again.
    const reapply = join(dir, "tombstones.ndjson");
    writeFileSync(reapply, ndjson(tombstones));
    expect(await importFile(reapply, "erasures")).toMatchObject({ erased: 1, rejected: 0 });
    expect((await search(gone)).hits).toEqual([]);
    expect(await q("SELECT member_id AS memberId FROM erased_members")).toEqual([{ memberId }]);
  }, 180_000);
});
