// Fault injection against the real local stack (scripts/dev.ts: libSQL server with faults
// enabled, migrations, wrangler dev): the database fails a ledger write's batch at a given step,
// or commits it and drops the connection before answering. Either way the write is all or
// nothing, the client sees a 5xx that says a retry is safe (or, for a dropped connection, a 202:
// an accrual or redemption stored in the member's object), and a retry with the same
// Idempotency-Key completes it exactly once — no orphan lots or outbox events.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../scripts/bench/stack";
import { type Database, database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";

let stack: Stack;
let db: Database;
let keys: { admin: string; storefront: string; partner: string };
let programId: string;
let n = 0;
const unique = (label: string) => `${label}-${Date.now()}-${++n}`;

async function api(method: string, path: string, opts: { key?: string; body?: unknown; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? keys.storefront}` };
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, replayed: res.headers.get("idempotent-replayed") };
}

const fault = (f: Record<string, unknown>) =>
  fetch(stack.faultsUrl, { method: "POST", headers: faultsHeaders(), body: JSON.stringify(f) }).then((r) => expect(r.status).toBe(200));
const clearFaults = () => fetch(stack.faultsUrl, { method: "DELETE", headers: faultsHeaders() });
const faultsHeaders = () => ({ authorization: `Bearer ${stack.dbEnv.LIBSQL_AUTH_TOKEN}`, "content-type": "application/json" });

async function newMember() {
  const res = await api("POST", "/v1/members", { body: { externalId: unique("cust") } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** What a write can leave behind, per member and per idempotency key. */
async function footprint(memberId: string, key: string) {
  const [row] = await db.all<Record<string, number>>(sql`SELECT
    (SELECT COUNT(*) FROM ledger_requests WHERE program_id = ${programId} AND idempotency_key = ${key}) AS requests,
    (SELECT COUNT(*) FROM ledger_entries WHERE program_id = ${programId} AND request_key = ${key}) AS entries,
    (SELECT COUNT(*) FROM ledger_entries WHERE member_id = ${memberId}) AS memberEntries,
    (SELECT COUNT(*) FROM point_lots WHERE member_id = ${memberId}) AS lots,
    (SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE member_id = ${memberId}) AS lotPoints,
    (SELECT COUNT(*) FROM orders WHERE member_id = ${memberId}) AS orders,
    (SELECT COALESCE(SUM(refunded_amount), 0) FROM orders WHERE member_id = ${memberId}) AS refunded,
    (SELECT COUNT(*) FROM outbox_events WHERE member_id = ${memberId}) AS events,
    (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE member_id = ${memberId}) AS ledgerSum,
    (SELECT points_balance FROM members WHERE id = ${memberId}) AS balance`);
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

async function expectNoOrphans() {
  const [row] = await db.all<Record<string, number>>(sql`SELECT
    (SELECT COUNT(*) FROM point_lots l WHERE l.program_id = ${programId} AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = l.entry_id)) AS orphanLots,
    (SELECT COUNT(*) FROM outbox_events o WHERE o.program_id = ${programId} AND json_extract(o.payload, '$.entryId') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = json_extract(o.payload, '$.entryId'))) AS orphanEvents,
    (SELECT COUNT(*) FROM ledger_entries e WHERE e.program_id = ${programId}
       AND NOT EXISTS (SELECT 1 FROM ledger_requests r WHERE r.program_id = e.program_id AND r.idempotency_key = e.request_key)) AS unrecordedEntries,
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_balance <> (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e WHERE e.member_id = m.id)) AS unbalanced,
    (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId}
       AND m.points_balance <> (SELECT COALESCE(SUM(remaining), 0) FROM point_lots l WHERE l.member_id = m.id)) AS lotsOff`);
  expect(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]))).toEqual({
    orphanLots: 0,
    orphanEvents: 0,
    unrecordedEntries: 0,
    unbalanced: 0,
    lotsOff: 0,
  });
}

beforeAll(async () => {
  stack = await startStack({ faults: true, vars: { RATE_LIMIT_PER_MINUTE: "1000000" } });
  db = database(stack.dbEnv);
  const created = await createProgram({
    ctx: { env: stack.dbEnv as never, db, requestId: "faults" },
    input: { name: "Faults", holdDays: 0, expiryDays: 365 },
  });
  programId = created.programId;
  keys = created.keys;
}, 120_000);

afterEach(async () => {
  await clearFaults();
});

afterAll(async () => {
  await stack?.stop();
}, 30_000);

/** `queued`: a write the member's object stores when the database cannot be reached (accruals, immediate redemptions). */
type Write = { path: (m: string) => string; body: () => unknown; key?: () => string; queued?: boolean };

/** A write that fails under `f`, leaves nothing, then completes exactly once on retry with its key. */
async function faultThenRetry(memberId: string, write: Write, f: Record<string, unknown>) {
  const key = unique("idem");
  const body = write.body();
  const path = write.path(memberId);
  const before = await footprint(memberId, key);
  await fault(f);
  const failed = await api("POST", path, { key: write.key?.(), body, idempotencyKey: key });
  if (f.dropConnectionAfterCommit) {
    // The answer was lost with the connection, which looks like a database out of reach: an accrual
    // or redemption is stored in the member's object (202) and applied later under its key; any
    // other write is refused (503). Either way a retry with the key is safe.
    expect(failed.status, JSON.stringify(failed.body)).toBe(write.queued ? 202 : 503);
    if (!write.queued) expect(failed.body.error.code).toBe("ledger_unavailable");
  } else {
    expect(failed.status, JSON.stringify(failed.body)).toBe(500);
    expect(failed.body.error.code).toBe("internal_error");
  }
  await clearFaults();
  const between = await footprint(memberId, key);
  if (f.dropConnectionAfterCommit) {
    // Committed whole before the connection dropped: recorded once, the rest consistent.
    expect(between.requests).toBe(1);
  } else {
    // Failed mid-batch: nothing of it is there.
    expect(between).toEqual(before);
  }
  // Retried until it answers its result: a stored write while the member's object has not applied it
  // yet (202), a refused one while the object still waits before trying the database again (503).
  let retried = await api("POST", path, { key: write.key?.(), body, idempotencyKey: key });
  for (let i = 0; i < 60 && (retried.status === 202 || retried.status === 503); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    retried = await api("POST", path, { key: write.key?.(), body, idempotencyKey: key });
  }
  expect(retried.status, JSON.stringify(retried.body)).toBe(201);
  expect(retried.replayed).toBe(f.dropConnectionAfterCommit ? "true" : "false");
  const again = await api("POST", path, { key: write.key?.(), body, idempotencyKey: key });
  expect(again.body).toEqual(retried.body);
  expect(again.replayed).toBe("true");
  const after = await footprint(memberId, key);
  expect(after.requests).toBe(1);
  expect(after.entries).toBe(retried.body.entries.length);
  expect(after.ledgerSum).toBe(after.balance);
  expect(after.lotPoints).toBe(after.balance);
  return { before, after, response: retried.body };
}

const accrual: Write = {
  queued: true,
  path: (m) => `/v1/members/${m}/accruals`,
  body: () => ({ orderId: unique("order"), amount: 12_345, currency: "USD" }),
};
const redemption: Write = { queued: true, path: (m) => `/v1/members/${m}/redemptions`, body: () => ({ points: 7, reason: "checkout" }) };
const credit: Write = {
  path: (m) => `/v1/members/${m}/adjustments`,
  body: () => ({ points: 25, reason: "goodwill" }),
  key: () => keys.admin,
};

describe("libSQL faults in the middle of ledger writes", () => {
  // The write batch is BEGIN, the idempotency record, then the write's statements, COMMIT,
  // ROLLBACK: failing step 1…8 fails it at every position; the low steps hit the reads first.
  it.each([1, 3, 5, 6, 7, 8])("an accrual failed at batch step %i is all-or-nothing and completes on retry", async (step) => {
    const member = await newMember();
    const { before, after, response } = await faultThenRetry(member, accrual, { failBatchOnStep: step });
    expect(response.pointsEarned).toBe(123);
    expect(after.orders).toBe(before.orders + 1);
    expect(after.lots).toBe(before.lots + 1);
    expect(after.events).toBe(before.events + 2); // points.earned, order.accrued
    await expectNoOrphans();
  });

  it.each([2, 5, 6])("a redemption failed at batch step %i is all-or-nothing and completes on retry", async (step) => {
    const member = await newMember();
    expect((await api("POST", accrual.path(member), { body: accrual.body(), idempotencyKey: unique("seed") })).status).toBe(201);
    const { before, after } = await faultThenRetry(member, redemption, { failBatchOnStep: step });
    expect(after.balance).toBe(before.balance - 7);
    expect(after.lotPoints).toBe(before.lotPoints - 7);
    await expectNoOrphans();
  });

  it("a refund failed mid-batch is all-or-nothing and completes on retry", async () => {
    const member = await newMember();
    const order = accrual.body() as { orderId: string };
    expect((await api("POST", accrual.path(member), { body: order, idempotencyKey: unique("seed") })).status).toBe(201);
    const refund: Write = { path: () => `/v1/orders/${order.orderId}/refunds`, body: () => ({ amount: 5_000 }) };
    const { before, after, response } = await faultThenRetry(member, refund, { failBatchOnStep: 6 });
    expect(response.pointsReversed).toBe(Math.floor((123 * 5_000) / 12_345));
    expect(after.refunded).toBe(before.refunded + 5_000);
    expect(after.balance).toBe(before.balance - response.pointsReversed);
    await expectNoOrphans();
  });

  it.each([
    ["an accrual", accrual],
    ["a redemption", redemption],
    ["a credit", credit],
  ])("%s committed but unanswered (connection dropped) is replayed, not applied twice", async (_label, write) => {
    const member = await newMember();
    expect((await api("POST", accrual.path(member), { body: accrual.body(), idempotencyKey: unique("seed") })).status).toBe(201);
    const { before, after } = await faultThenRetry(member, write, { dropConnectionAfterCommit: true });
    expect(after.memberEntries).toBe(before.memberEntries + 1);
    await expectNoOrphans();
  });

  it("the server answers normally once the faults are used up", async () => {
    const member = await newMember();
    await fault({ failBatchOnStep: 1, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api("POST", accrual.path(member), { body: accrual.body(), idempotencyKey: unique("idem") })).status);
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThanOrEqual(1);
    expect(statuses.slice(-1)).toEqual([201]);
    await expectNoOrphans();
  });
});
