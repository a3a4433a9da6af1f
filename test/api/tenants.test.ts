import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../../schema";
import { programsDueToday } from "../../src/services/program/local-day";
import { dispatchOutbox, sweepDueDeliveries } from "../../src/services/webhooks/delivery";
import { searchWholeDatabase } from "../support/whole-database-search";
import { accrue, call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const operator = () => testEnv.OPERATOR_TOKEN as string;

async function createTenant(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/operator/programs", { key: operator(), body: { name: "Operator-made", ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { program: { id: string; status: string }; adminKey: string; partnerSigningSecret: string };
}

async function mintToken(p: TestProgram, memberId: string) {
  const res = await call("POST", `/v1/members/${memberId}/tokens`, { key: p.keys.storefront, body: { scopes: ["read"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
}

const runSql = async (sql: string, args: unknown[] = []) =>
  (await db().$client.execute({ sql, args: args as never })).rows.map((r) => ({ ...r }) as Record<string, unknown>);

describe("operator: programs as tenants", () => {
  it("creates a program with only its first admin key, shown once; lists and reads it", async () => {
    const created = await createTenant({ currency: "TWD", timeZone: "Asia/Taipei", pointCostPer1000: 5000 });
    expect(created.adminKey).toMatch(/^le_admin_/);
    expect(created.partnerSigningSecret).toMatch(/^whsec_/);
    expect(created.program).toMatchObject({ status: "active", currency: "TWD", timeZone: "Asia/Taipei", suspendedAt: null });
    const program = await call("GET", "/v1/program", { key: created.adminKey });
    expect(program.status).toBe(200);
    expect(program.body).toMatchObject({ id: created.program.id, pointCostPer1000: 5000, timeZone: "Asia/Taipei" });
    // The admin mints the other keys it needs; no secret exists that nobody asked for.
    const keys = await call("GET", "/v1/keys", { key: created.adminKey });
    expect(keys.body.data.map((k: { scope: string }) => k.scope)).toEqual(["admin"]);
    const store = await call("POST", "/v1/keys", { key: created.adminKey, body: { name: "shop", scope: "storefront" } });
    expect(store.status).toBe(201);

    const one = await call("GET", `/v1/operator/programs/${created.program.id}`, { key: operator() });
    expect(one.body).toMatchObject({ id: created.program.id, status: "active" });
    expect(JSON.stringify(one.body)).not.toContain("partnerSigningSecret");
    let found = false;
    let cursor: string | null = null;
    for (let page = 0; page < 50 && !found; page++) {
      const list = await call("GET", `/v1/operator/programs?limit=500${cursor ? `&cursor=${cursor}` : ""}`, { key: operator() });
      expect(list.status).toBe(200);
      found = list.body.data.some((t: { id: string }) => t.id === created.program.id);
      cursor = list.body.nextCursor;
      if (!cursor) break;
    }
    expect(found).toBe(true);
    // Invalid input is a 400, and nothing is created.
    const bad = await call("POST", "/v1/operator/programs", { key: operator(), body: { name: "x", timeZone: "Mars/Olympus" } });
    expect(bad.status).toBe(400);
  });

  it("no API key of any scope, member token or missing credential can call an operator route, for its own program or another", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const member = await newMember(a);
    const token = await mintToken(a, member.id);
    const routes: Array<[string, string, unknown?]> = [
      ["POST", "/v1/operator/programs", { name: "sneaky" }],
      ["GET", "/v1/operator/programs"],
      ...[a.programId, b.programId].flatMap(
        (id): Array<[string, string, unknown?]> => [
          ["GET", `/v1/operator/programs/${id}`],
          ["POST", `/v1/operator/programs/${id}/suspend`, { reason: "mine now" }],
          ["POST", `/v1/operator/programs/${id}/resume`],
          ["DELETE", `/v1/operator/programs/${id}?confirm=${id}`],
          ["DELETE", `/v1/operator/programs/${id}?dryRun=true`],
          ["GET", `/v1/operator/programs/${id}/usage`],
        ],
      ),
    ];
    for (const [method, path, body] of routes) {
      for (const key of [a.keys.admin, a.keys.storefront, a.keys.partner, token]) {
        const res = await call(method, path, { key, body });
        expect(res.status, `${method} ${path} → ${JSON.stringify(res.body)}`).toBe(403);
      }
      expect((await call(method, path, { body })).status, `${method} ${path} without a key`).toBe(401);
      expect((await call(method, path, { body, key: "not-the-operator-token-0000000000000000" })).status).toBe(401);
    }
    // Nothing happened to either program.
    for (const p of [a, b]) expect((await call("GET", "/v1/program", { key: p.keys.admin })).status).toBe(200);
  });

  it("suspends a program: every key and member token gets 403 program_suspended, jobs skip it, others are untouched; resume undoes it", async () => {
    const p = await newProgram();
    const other = await newProgram();
    const bucket = uniqueKey("suspended");
    const hook = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: `http://receiver.test/__test/receiver/${bucket}`, eventTypes: ["points.earned"] },
    });
    expect(hook.status).toBe(201);
    const member = await newMember(p);
    expect((await accrue(p, member.id, 1000)).status).toBe(201);
    const token = await mintToken(p, member.id);
    const now = new Date();
    expect(await programsDueToday(db(), "test.suspension", [p.programId], now)).toHaveLength(1);

    const suspended = await call("POST", `/v1/operator/programs/${p.programId}/suspend`, {
      key: operator(),
      body: { reason: "invoice unpaid" },
    });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ status: "suspended", suspendedReason: "invoice unpaid" });
    expect(suspended.body.suspendedAt).toEqual(expect.any(String));

    for (const key of [p.keys.admin, p.keys.storefront, p.keys.partner]) {
      const res = await call("GET", `/v1/members/${member.id}/balance`, { key });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("program_suspended");
      expect(res.body.error.message).toMatch(/suspended/);
    }
    const write = await accrue(p, member.id, 1000);
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe("program_suspended");
    const me = await call("GET", "/v1/me", { key: token });
    expect(me.status).toBe(403);
    expect(me.body.error.code).toBe("program_suspended");
    // The once-a-day jobs (birthdays, calendar triggers…) skip it; another program is untouched.
    expect(await programsDueToday(db(), "test.suspension", [p.programId, other.programId], now)).toEqual([
      expect.objectContaining({ programId: other.programId }),
    ]);
    expect((await call("GET", "/v1/program", { key: other.keys.admin })).status).toBe(200);
    // Its webhook deliveries wait, still due, while it is suspended; they go out once it is resumed.
    await dispatchOutbox(testEnv, new Date(), 500);
    const deliveries = () =>
      runSql(
        "SELECT status, attempts, next_attempt_at AS due FROM webhook_deliveries WHERE webhook_id = ? AND event_type = 'points.earned'",
        [hook.body.id],
      );
    const [pending] = await deliveries();
    await sweepDueDeliveries(testEnv, new Date(), 500);
    // Not claimed (a claim leases it: its due time would move), not attempted.
    expect(await deliveries()).toEqual([{ status: "pending", attempts: 0, due: pending.due }]);
    expect((await call("GET", `/__test/receiver/${bucket}`)).body.received).toEqual([]);
    // Suspending again keeps the first suspension time.
    const again = await call("POST", `/v1/operator/programs/${p.programId}/suspend`, {
      key: operator(),
      body: { reason: "invoice unpaid" },
    });
    expect(again.body.suspendedAt).toBe(suspended.body.suspendedAt);

    const resumed = await call("POST", `/v1/operator/programs/${p.programId}/resume`, { key: operator() });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: "active", suspendedAt: null, suspendedReason: null });
    expect((await call("GET", `/v1/members/${member.id}/balance`, { key: p.keys.storefront })).status).toBe(200);
    expect((await call("GET", "/v1/me", { key: token })).status).toBe(200);
    expect((await accrue(p, member.id, 1000)).status).toBe(201);
    // Resumed: the next sweep hands it on (to the queue here), and it arrives.
    expect((await sweepDueDeliveries(testEnv, new Date(), 500)).claimed).toBeGreaterThan(0);
    let arrived: unknown[] = [];
    for (let i = 0; i < 100 && arrived.length === 0; i++) {
      arrived = (await call("GET", `/__test/receiver/${bucket}`)).body.received;
      if (arrived.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(arrived).toHaveLength(1);
    // Both operator actions are in the program's own audit log.
    const audit = await call("GET", "/v1/audit", { key: p.keys.admin });
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["program.suspended", "program.resumed"]));

    expect((await call("POST", "/v1/operator/programs/prg_nope/suspend", { key: operator(), body: { reason: "x" } })).status).toBe(404);
  });

  it("deletes a program after a dry run and a confirmation: no row of it remains in any table; other programs keep theirs", async () => {
    const p = await newProgram();
    const sibling = await newProgram();
    const siblingMember = await newMember(sibling);
    expect((await accrue(sibling, siblingMember.id, 5000)).status).toBe(201);

    // Data in as many tables as the API reaches: members, ledger, lots, orders, redemptions,
    // rule usage (keyed by rule and member, no program), webhooks, keys, audit, partner links, usage.
    const rule = await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: { name: "Bonus", trigger: { type: "purchase" }, effect: { type: "fixed", points: 50 }, priority: 1, capPerMember: 500 },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const members = [await newMember(p, { email: `del-${uniqueKey()}@example.com` }), await newMember(p)];
    for (const m of members) expect((await accrue(p, m.id, 20_000)).status).toBe(201);
    const partnerSale = await call("POST", `/v1/members/${members[0].id}/accruals`, {
      key: p.keys.partner,
      idempotencyKey: uniqueKey("acc"),
      body: { orderId: uniqueKey("order"), amount: 3000, currency: "USD" },
    });
    expect(partnerSale.status).toBe(201);
    const redeem = await call("POST", `/v1/members/${members[1].id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("rdm"),
      body: { points: 10, reason: "checkout" },
    });
    expect(redeem.status, JSON.stringify(redeem.body)).toBe(201);
    const hook = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: "https://hooks.example.com/loyalty", eventTypes: ["points.earned"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    expect((await call("GET", `/v1/operator/programs/${p.programId}/usage`, { key: operator() })).status).toBe(200);

    // A dry run counts, per table, and changes nothing; it lists every table of the schema.
    const dry = await call("DELETE", `/v1/operator/programs/${p.programId}?dryRun=true`, { key: operator() });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, confirm: p.programId, deletedAt: null });
    const schemaTables = (Object.values(schema) as unknown[])
      .filter((t): t is SQLiteTable => t instanceof SQLiteTable)
      .map((t) => getTableConfig(t).name);
    const deploymentWide = ["job_runs", "outbox_cursors"];
    expect(Object.keys(dry.body.rows).sort()).toEqual(schemaTables.filter((t) => !deploymentWide.includes(t)).sort());
    for (const table of ["programs", "members", "ledger_entries", "point_lots", "orders", "redemptions", "api_keys", "audit_log"])
      expect(dry.body.rows[table], table).toBeGreaterThan(0);
    expect(dry.body.rows.rule_member_usage).toBeGreaterThan(0);
    expect(dry.body.rows.partner_members).toBeGreaterThan(0);
    expect(dry.body.rows.webhooks).toBe(1);
    expect(dry.body.rows.program_usage_daily).toBe(1);
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).status).toBe(200);

    // No confirmation, or one naming another program: 400, nothing deleted.
    for (const query of ["", `?confirm=${sibling.programId}`, "?dryRun=false"]) {
      const refused = await call("DELETE", `/v1/operator/programs/${p.programId}${query}`, { key: operator() });
      expect(refused.status, query).toBe(400);
    }
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).status).toBe(200);

    const siblingBefore = await runSql("SELECT count(*) AS n FROM ledger_entries WHERE program_id = ?", [sibling.programId]);
    const deleted = await call("DELETE", `/v1/operator/programs/${p.programId}?confirm=${p.programId}`, { key: operator() });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toMatchObject({ dryRun: false, totalRows: dry.body.totalRows, rows: dry.body.rows });

    // Nothing of it anywhere: its id, its members', its rule's, its keys' (every table in the
    // database, not only the schema's, searched by value in every column).
    const ruleUsage = dry.body.rows.rule_member_usage;
    expect(ruleUsage).toBeGreaterThan(0);
    const needles = [p.programId, rule.body.id, hook.body.id, ...members.map((m) => m.id)];
    const { hits, tables } = await searchWholeDatabase(runSql, needles);
    expect(tables).toEqual(expect.arrayContaining(schemaTables));
    expect(hits).toEqual([]);
    for (const table of Object.keys(dry.body.rows).filter(
      (t) => t !== "programs" && t !== "program_job_shards" && t !== "rule_member_usage",
    ))
      expect(await runSql(`SELECT count(*) AS n FROM "${table}" WHERE program_id = ?`, [p.programId]), table).toEqual([{ n: 0 }]);

    // Its keys are gone; the sibling program is whole.
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).status).toBe(401);
    expect(await runSql("SELECT count(*) AS n FROM ledger_entries WHERE program_id = ?", [sibling.programId])).toEqual(siblingBefore);
    expect((await call("GET", `/v1/members/${siblingMember.id}/balance`, { key: sibling.keys.storefront })).body.available).toBe(50);
    // Deleting again: it is gone.
    expect((await call("DELETE", `/v1/operator/programs/${p.programId}?confirm=${p.programId}`, { key: operator() })).status).toBe(404);
  });

  it("a deletion cut short (suspended, some tables done) is finished by the same call", async () => {
    const p = await newProgram();
    const member = await newMember(p);
    expect((await accrue(p, member.id, 5000)).status).toBe(201);
    // Where a deletion that died half way leaves a program: suspended, its first tables gone.
    await runSql("UPDATE programs SET suspended_at = ?, suspended_reason = 'deleting' WHERE id = ?", [
      new Date().toISOString(),
      p.programId,
    ]);
    await runSql("DELETE FROM audit_log WHERE program_id = ?", [p.programId]);
    await runSql("DELETE FROM ledger_entries WHERE program_id = ?", [p.programId]);
    expect((await call("GET", "/v1/program", { key: p.keys.admin })).body.error.code).toBe("program_suspended");
    const dry = await call("DELETE", `/v1/operator/programs/${p.programId}?dryRun=true`, { key: operator() });
    expect(dry.body.rows).toMatchObject({ ledger_entries: 0, audit_log: 0, members: 1, programs: 1 });
    const done = await call("DELETE", `/v1/operator/programs/${p.programId}?confirm=${p.programId}`, { key: operator() });
    expect(done.status).toBe(200);
    const { hits } = await searchWholeDatabase(runSql, [p.programId, member.id]);
    expect(hits).toEqual([]);
  });

  it("meters requests, writes, rows written and members per program and day, for the operator", async () => {
    const p = await newProgram();
    const other = await newProgram();
    const before = await call("GET", `/v1/operator/programs/${p.programId}/usage`, { key: operator() });
    expect(before.status).toBe(200);
    expect(before.body.totals).toEqual({ requests: 0, writes: 0, rowsWritten: 0 });
    const members = [await newMember(p), await newMember(p), await newMember(p)];
    for (const m of members) expect((await accrue(p, m.id, 1000)).status).toBe(201);
    for (const m of members) expect((await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront })).status).toBe(200);
    // A refused write is a request, not a write.
    expect((await call("POST", "/v1/keys", { key: p.keys.storefront, body: { name: "mine", scope: "admin" } })).status).toBe(403);
    await newMember(other);

    const usage = await call("GET", `/v1/operator/programs/${p.programId}/usage`, { key: operator() });
    expect(usage.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.body.days.map((d: { day: string }) => d.day)).toEqual([today]);
    expect(usage.body.totals.requests).toBe(10);
    expect(usage.body.totals.writes).toBe(6);
    // Registration and accrual rows: more than one per write, all counted from libSQL's own answers.
    expect(usage.body.totals.rowsWritten).toBeGreaterThan(6);
    expect(usage.body.members).toEqual({ total: 3, active: 3 });
    const otherUsage = await call("GET", `/v1/operator/programs/${other.programId}/usage`, { key: operator() });
    expect(otherUsage.body.totals.requests).toBe(1);
    expect(otherUsage.body.members.total).toBe(1);

    expect(
      (await call("GET", `/v1/operator/programs/${p.programId}/usage?from=2026-12-31&to=2026-01-01`, { key: operator() })).status,
    ).toBe(400);
    expect((await call("GET", "/v1/operator/programs/prg_nope/usage", { key: operator() })).status).toBe(404);
  });
});
