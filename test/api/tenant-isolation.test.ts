import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { memberLedger } from "../../src/services/ledger/write";
import { dispatchOutbox } from "../../src/services/webhooks/delivery";
import { accrue, call, db, newMember, newProgram, testEnv, uniqueKey } from "./helpers";
import { isIdParam, operations, request, SCOPES, unlimited } from "./route-probes";

// Its own file: the pool's loopback fetch slows down with every call made in one file, and
// this test makes a few hundred.
describe("tenant isolation", () => {
  it("a key of program A can read or change nothing of program B on any registered route", async () => {
    const ops = await operations();
    const a = await newProgram();
    const b = await newProgram();
    await unlimited(a);
    await unlimited(b);

    // Program B gets one of everything, through its own admin key and the routes' examples.
    const mb = await newMember(b, { email: "b-member@example.com", name: "B Member" });
    const orderB = (await accrue(b, mb.id, 50_000)).body.entries[0].sourceId as string;
    await call("POST", `/v1/members/${mb.id}/adjustments`, {
      key: b.keys.admin,
      idempotencyKey: uniqueKey("b"),
      body: { points: 100_000, reason: "fund" },
    });
    const receiver = `http://receiver.test/__test/receiver/${uniqueKey("iso")}`;
    const tierExample = ops.find((o) => o.method === "POST" && o.path === "/v1/tiers")?.body as Record<string, unknown> | undefined;
    const createOverrides: Record<string, unknown> = {
      "/v1/webhooks": { url: receiver, eventTypes: ["*"] },
      "/v1/quote": { memberId: mb.id, amount: 1000, currency: "USD" },
      // A ladder starts with its entry tier (rank 0).
      "/v1/tiers": { ...tierExample, name: "Entry", rank: 0 },
    };
    for (const op of ops.filter(
      (o) => (o.method === "POST" || o.method === "PUT") && !o.params.some((p) => p.in === "path" && isIdParam(p.name)),
    )) {
      if (op.path === "/v1/members") continue;
      await request(op, {}, b.keys.admin, createOverrides, "setup");
    }
    const first = async (sql: string) => {
      const r = await db().$client.execute({ sql, args: [b.programId] });
      return r.rows[0] ? String(Object.values(r.rows[0])[0]) : undefined;
    };
    const rewardB = await first("SELECT id FROM rewards WHERE program_id = ? LIMIT 1");
    const redeemOp = ops.find((o) => o.path === "/v1/members/{memberId}/rewards/{rewardId}/redeem");
    if (redeemOp && rewardB) await request(redeemOp, { memberId: mb.id, rewardId: rewardB }, b.keys.admin, {}, "setup");
    await accrue(b, mb.id, 1_000); // an event after B's webhook exists → a delivery
    await dispatchOutbox({ ...testEnv, WEBHOOK_QUEUE: undefined }, new Date(), 500);
    // A finished nightly job run of B's (nothing to resume or queue).
    await db().$client.execute({
      sql: `INSERT INTO program_job_runs (id, program_id, job, run_key, as_of, status, created_at, progress_at)
        VALUES (?, ?, 'analytics.fit', 'probe', ?, 'ok', ?, ?)`,
      args: [`jrun_${uniqueKey("iso")}`, b.programId, new Date().toISOString(), new Date().toISOString(), new Date().toISOString()],
    });

    const ids: Record<string, string | undefined> = {
      memberId: mb.id,
      orderId: orderB,
      externalId: mb.externalId,
      webhookId: await first("SELECT id FROM webhooks WHERE program_id = ? LIMIT 1"),
      deliveryId: await first("SELECT id FROM webhook_deliveries WHERE program_id = ? LIMIT 1"),
      keyId: await first("SELECT id FROM api_keys WHERE program_id = ? LIMIT 1"),
      ruleId: await first("SELECT id FROM earning_rules WHERE program_id = ? LIMIT 1"),
      tierId: await first("SELECT id FROM tiers WHERE program_id = ? LIMIT 1"),
      rewardId: rewardB,
      segmentId: await first("SELECT id FROM segments WHERE program_id = ? LIMIT 1"),
      campaignId: await first("SELECT id FROM campaigns WHERE program_id = ? LIMIT 1"),
      experimentId: await first("SELECT id FROM experiments WHERE program_id = ? LIMIT 1"),
      redemptionId: (
        await call("POST", `/v1/members/${mb.id}/redemptions`, {
          key: b.keys.admin,
          idempotencyKey: uniqueKey("b"),
          body: { points: 10, reason: "held", capture: false },
        })
      ).body.redemption?.id,
      code: await first("SELECT code FROM coupons WHERE program_id = ? LIMIT 1"),
      // A write B's member object stored while the database was down (made here directly in its
      // storage: this project's database never goes down; test/outage does it for real).
      writeId: await runInDurableObject(memberLedger(testEnv, b.programId, mb.id), (_instance, state) => {
        const id = `qw_${uniqueKey("probe")}`;
        const now = new Date().toISOString();
        state.storage.sql.exec(
          `INSERT INTO queued_writes (id, origin, idempotency_key, request_hash, program_id, member_id, operation, request, input, status, result, accepted_at, applied_at)
           VALUES (?, 'client', ?, 'probe', ?, ?, 'accrue', '{}', '{}', 'applied', ?, ?, ?)`,
          id,
          uniqueKey("probe-key"),
          b.programId,
          mb.id,
          JSON.stringify({ ok: true, status: 201, body: { orderId: orderB }, replayed: false }),
          now,
          now,
        );
        return id;
      }),
      runId: await first("SELECT id FROM program_job_runs WHERE program_id = ? LIMIT 1"),
      // The operator's routes name programs; no key of A (or B) may call them at all.
      programId: b.programId,
    };
    const bIds = Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const secrets = [b.keys.admin, b.keys.storefront, b.keys.partner, b.partnerSigningSecret, "b-member@example.com"];

    const snapshotB = async () => {
      const out: Record<string, unknown> = {};
      for (const table of [
        "members",
        "api_keys",
        "webhooks",
        "earning_rules",
        "tiers",
        "rewards",
        "segments",
        "campaigns",
        "budgets",
        "orders",
      ]) {
        const cols = (await db().$client.execute(`PRAGMA table_info(${table})`)).rows
          .map((r) => String(r.name))
          .filter(
            (c) =>
              !/(_at$|_count$|count|awarded|spent|stage|rfm|churn|clv|expected|score|tier|balance|pending|lifetime|points|last_|segment)/.test(
                c,
              ),
          );
        out[table] = (
          await db().$client.execute({
            sql: `SELECT ${cols.join(", ")} FROM ${table} WHERE program_id = ? ORDER BY rowid`,
            args: [b.programId],
          })
        ).rows;
      }
      out.settings = await first("SELECT settings FROM programs WHERE id = ?");
      return JSON.stringify(out);
    };
    const before = await snapshotB();

    const problems: string[] = [];
    const unprobed: string[] = [];
    let probes = 0;
    // Control: the ids are real — B's own admin key reads each of them (operator-only routes take no key of a program).
    const keyed = (o: (typeof ops)[number]) => (o.scopes?.length ?? 0) > 0;
    for (const op of ops.filter((o) => keyed(o) && o.method === "GET" && o.params.some((p) => p.in === "path" && isIdParam(p.name)))) {
      const own = await request(op, bIds, b.keys.admin);
      if (own.status !== 200) problems.push(`control: B's own GET ${op.path} → ${own.status}`);
    }
    for (const op of ops) {
      const idParams = op.params.filter((p) => p.in === "path" && isIdParam(p.name)).map((p) => p.name);
      const missing = idParams.filter((n) => !bIds[n]);
      if (missing.length) unprobed.push(`${op.method} ${op.path} (no B ${missing.join(", ")})`);
      // Scopes a route refuses are covered by the scope matrix; probe with every scope it accepts.
      for (const scope of SCOPES.filter((sc) => op.scopes?.includes(sc) ?? true)) {
        const res = await request(op, bIds, a.keys[scope]);
        if (idParams.length) probes++;
        const label = `${scope} ${op.method} ${op.path} → ${res.status}`;
        const text = JSON.stringify(res.body ?? "");
        const requested = new Set(idParams.map((n) => bIds[n]));
        const leaked = [...Object.values(bIds), ...secrets].filter((v) => !requested.has(v) && text.includes(v));
        if (leaked.length) problems.push(`${label} leaks ${leaked.join(", ")}`);
        if (res.status >= 500) problems.push(`${label} ${text.slice(0, 200)}`);
        // A route addressing B's resource must not succeed for A.
        if (idParams.length && !missing.length && res.status < 400) problems.push(`${label} succeeded on B's resource`);
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshotB()).toBe(before);

    // Nothing A's keys did was written into B: no audit row in B by A's keys, no ledger write keyed by a probe.
    const aKeyIds = (await db().$client.execute({ sql: "SELECT id FROM api_keys WHERE program_id = ?", args: [a.programId] })).rows.map(
      (r) => String(r.id),
    );
    const foreignAudit = await db().$client.execute({
      sql: `SELECT count(*) AS n FROM audit_log WHERE program_id = ? AND key_id IN (${aKeyIds.map(() => "?").join(",")})`,
      args: [b.programId, ...aKeyIds],
    });
    expect(Number(foreignAudit.rows[0].n)).toBe(0);
    const probeWrites = await db().$client.execute({
      sql: "SELECT count(*) AS n FROM ledger_requests WHERE (program_id = ? OR member_id = ?) AND idempotency_key LIKE 'probe-%'",
      args: [b.programId, mb.id],
    });
    expect(Number(probeWrites.rows[0].n)).toBe(0);
    // Every id-addressed route was probed with a real B id of its kind.
    expect(unprobed).toEqual([]);
    expect(probes).toBeGreaterThan(50);
  }, 300_000);
});
