// Member merge: a duplicate's lots (with their dates), orders, lifetime figures, referrals,
// consent, tags and tier move into the member that stays, through both members' Durable
// Objects, locked in id order; idempotent, resumable after a crash between its steps, and the
// duplicate left as a tombstone that redirects lookups and refuses writes.
import { afterEach, describe, expect, it } from "vitest";
import { resumeStalledMerges } from "../../src/services/members/merge";
import { ledgerViolations } from "../stress/ledger-workload";
import { injectMergeFault } from "../support/merge-faults";
import { accrue, call, callDirect, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;
const zeroViolations = async (programId: string) => {
  const v = await ledgerViolations(db(), programId);
  expect(v).toEqual(Object.fromEntries(Object.keys(v).map((k) => [k, 0])));
};
const merge = (p: TestProgram, into: string, from: string, idempotencyKey = uniqueKey("merge"), key = p.keys.admin) =>
  call("POST", `/v1/members/${into}/merge`, { key, idempotencyKey, body: { from } });
const lotsOf = async (memberId: string) =>
  (
    await sql(
      "SELECT points, remaining, available_at AS availableAt, expires_at AS expiresAt, expiry_kind AS expiryKind, order_id AS orderId, created_at AS createdAt FROM point_lots WHERE member_id = ? AND remaining > 0 ORDER BY expires_at, order_id",
      [memberId],
    )
  ).map((r) => ({ ...r }));
/** Σ of every member's balance and of every ledger entry in the program: a merge changes neither. */
const programTotals = async (programId: string) => {
  const [r] = await sql(
    "SELECT (SELECT SUM(points_balance) FROM members WHERE program_id = ?) AS balances, (SELECT SUM(points) FROM ledger_entries WHERE program_id = ?) AS ledger",
    [programId, programId],
  );
  return { balances: Number(r.balances), ledger: Number(r.ledger) };
};

let undo: Array<() => void> = [];
afterEach(() => {
  for (const u of undo) u();
  undo = [];
});

async function tier(p: TestProgram, name: string, rank: number) {
  const res = await call("POST", "/v1/tiers", {
    key: p.keys.admin,
    body: { name, rank, qualification: { windowDays: 30, minSpend: rank * 10_000_000 } },
  });
  if (res.status !== 201) throw new Error(`tier: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** A (stays) with one purchase; B (the duplicate) with two lots of different expiry, a part redeemed, a higher tier, tags and consent. */
async function duplicates() {
  const p = await newProgram({ basePointsPerUnit: 1, expiryDays: 30 });
  const a = await newMember(p, { email: "ana@example.com", consent: { email: true, sms: true }, tags: ["online"] });
  const b = await newMember(p, {
    phone: "+886912345678",
    name: "Ana",
    consent: { email: false, sms: true, push: true },
    tags: ["store", "vip"],
  });
  await tier(p, "Bronze", 0);
  const silver = await tier(p, "Silver", 1);
  const gold = await tier(p, "Gold", 2);
  await sql("UPDATE members SET tier_id = ? WHERE id = ?", [silver, a.id]);
  await sql("UPDATE members SET tier_id = ? WHERE id = ?", [gold, b.id]);
  expect((await accrue(p, a.id, 10_000, { orderId: "order-a" })).status).toBe(201);
  expect((await accrue(p, b.id, 20_000, { orderId: "order-b1" })).status).toBe(201);
  await sql("UPDATE programs SET expiry_days = 90 WHERE id = ?", [p.programId]);
  expect((await accrue(p, b.id, 30_000, { orderId: "order-b2" })).status).toBe(201);
  const redeemed = await call("POST", `/v1/members/${b.id}/redemptions`, {
    key: p.keys.storefront,
    idempotencyKey: uniqueKey(),
    body: { points: 50, reason: "checkout" },
  });
  expect(redeemed.status).toBe(201);
  return { p, a, b, silver, gold };
}

describe("member merge", () => {
  it("moves lots with their dates, orders, lifetime figures, consent (stricter), tags, the higher tier; leaves a redirecting tombstone", async () => {
    const { p, a, b, gold } = await duplicates();
    const bLots = await lotsOf(b.id);
    const aLots = await lotsOf(a.id);
    const before = await programTotals(p.programId);
    expect(bLots.map((l) => l.remaining)).toEqual([150, 300]);

    const res = await merge(p, a.id, b.id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      memberId: a.id,
      mergedFrom: b.id,
      status: "completed",
      pointsMoved: 450,
      debtMoved: 0,
      lotsMoved: 2,
      ordersMoved: 2,
      tierId: gold,
    });

    // The lots arrive with their original dates (available, expiry, order); Σ ledger = balance = Σ lots.
    const moved = await lotsOf(a.id);
    expect(moved).toHaveLength(3);
    for (const lot of bLots) expect(moved).toContainEqual({ ...lot, points: lot.remaining });
    for (const lot of aLots) expect(moved).toContainEqual(lot);
    expect(await ledgerSum(a.id)).toEqual({ sum: 550, balance: 550, pending: 0, lots: 550 });
    expect(await ledgerSum(b.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    expect(await programTotals(p.programId)).toEqual(before);
    await zeroViolations(p.programId);

    const merged = (await call("GET", `/v1/members/${a.id}`, { key: p.keys.admin })).body;
    expect(merged.balance).toMatchObject({ available: 550, total: 550 });
    expect(merged.lifetime).toEqual({ earned: 600, redeemed: 50, spend: 60_000, orders: 3 });
    expect(merged.tier.id).toBe(gold);
    expect(merged.consent).toEqual({ email: false, sms: true, push: false, line: false, wechat: false });
    expect(merged.tags).toEqual(["online", "store", "vip"]);
    expect(merged.email).toBe("ana@example.com");
    expect(merged.phone).toBe("+886912345678");
    expect(merged.name).toBe("Ana");
    const orders = await sql("SELECT order_id AS o, member_id AS m FROM orders WHERE program_id = ? ORDER BY order_id", [p.programId]);
    expect(orders.map((o) => [o.o, o.m])).toEqual([
      ["order-a", a.id],
      ["order-b1", a.id],
      ["order-b2", a.id],
    ]);

    // The tombstone: by id and by external id, a 308 to the member that stays; no personal data left.
    for (const key of [p.keys.storefront, p.keys.admin, p.keys.partner]) {
      // Straight to the handler: the runtime's fetch would follow the redirect.
      const byId = await callDirect("GET", `/v1/members/${b.id}`, { key });
      if (key === p.keys.partner) {
        expect(byId.status).toBe(404); // the partner never touched either member
        continue;
      }
      expect(byId.status).toBe(308);
      expect(byId.headers.get("location")).toBe(`/v1/members/${a.id}`);
      expect(byId.body).toMatchObject({ id: b.id, status: "merged", mergedInto: a.id, email: null, phone: null, name: null, tags: [] });
    }
    // A client that follows redirects (the runtime's fetch does) simply lands on the member that stays.
    const followed = await call("GET", `/v1/members/${b.id}`, { key: p.keys.storefront });
    expect(followed.status).toBe(200);
    expect(followed.body).toMatchObject({ id: a.id, balance: { total: 550 } });
    const byExternal = await callDirect("GET", `/v1/members?externalId=${b.externalId}`, { key: p.keys.storefront });
    expect(byExternal.status).toBe(308);
    expect(byExternal.headers.get("location")).toBe(`/v1/members/${a.id}`);
    expect(byExternal.body.mergedInto).toBe(a.id);

    // Its balance points to the stayer's; registering its customer id again answers the stayer.
    const balance = await callDirect("GET", `/v1/members/${b.id}/balance`, { key: p.keys.storefront });
    expect(balance.status).toBe(308);
    expect(balance.headers.get("location")).toBe(`/v1/members/${a.id}/balance`);
    expect((await call("GET", `/v1/members/${b.id}/balance`, { key: p.keys.storefront })).body).toMatchObject({ available: 550 });
    const again = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: b.externalId } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(a.id);

    // Writes to the tombstone: 409 member_merged naming where it went.
    const write = await accrue(p, b.id, 1_000);
    expect(write.status).toBe(409);
    expect(write.body.error).toMatchObject({ code: "member_merged", details: { mergedInto: a.id } });
    const patch = await call("PATCH", `/v1/members/${b.id}`, { key: p.keys.admin, body: { name: "x" } });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("member_merged");
    const tags = await call("POST", `/v1/members/${b.id}/tags`, { key: p.keys.admin, body: { add: ["x"] } });
    expect(tags.status).toBe(409);

    // A refund of a moved order is the stayer's: it takes back from that order's own (moved) lot.
    const refund = await call("POST", "/v1/orders/order-b2/refunds", {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { amount: 30_000 },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    expect(refund.body.pointsReversed).toBe(300);
    await zeroViolations(p.programId);

    // Event and audit.
    const [event] = await sql("SELECT payload FROM outbox_events WHERE program_id = ? AND type = 'member.merged'", [p.programId]);
    expect(JSON.parse(String(event.payload))).toMatchObject({ memberId: a.id, mergedFrom: b.id, pointsMoved: 450, lotsMoved: 2 });
    const audit = await call("GET", `/v1/audit?entityType=member&entityId=${a.id}`, { key: p.keys.admin });
    expect(audit.body.data).toContainEqual(
      expect.objectContaining({ action: "member.merged", after: expect.objectContaining({ mergeId: res.body.id, pointsMoved: 450 }) }),
    );
  });

  it("is idempotent: the same key or the same merge again answers the original result; refused cases are clear 4xx", async () => {
    const { p, a, b } = await duplicates();
    const key = uniqueKey("merge");
    const first = await merge(p, a.id, b.id, key);
    expect(first.status).toBe(200);
    const again = await merge(p, a.id, b.id, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const otherKey = await merge(p, a.id, b.id);
    expect(otherKey.body).toEqual(first.body);
    expect(await ledgerSum(a.id)).toEqual({ sum: 550, balance: 550, pending: 0, lots: 550 });

    const c = await newMember(p);
    expect((await merge(p, c.id, a.id, key)).body.error.code).toBe("idempotency_conflict");
    // Into itself, into a tombstone, from a tombstone, across programs, without a key.
    const self = await merge(p, a.id, a.id);
    expect(self.status).toBe(400);
    const intoTombstone = await merge(p, b.id, c.id);
    expect(intoTombstone.status).toBe(409);
    expect(intoTombstone.body.error).toMatchObject({ code: "member_merged", details: { mergedInto: a.id } });
    const fromTombstone = await merge(p, c.id, b.id);
    expect(fromTombstone.status).toBe(409);
    expect(fromTombstone.body.error.code).toBe("member_merged");
    const other = await newProgram();
    const stranger = await newMember(other);
    expect((await merge(p, c.id, stranger.id)).status).toBe(404);
    expect((await merge(other, stranger.id, c.id)).status).toBe(404);
    const noKey = await call("POST", `/v1/members/${c.id}/merge`, { key: p.keys.admin, body: { from: a.id } });
    expect(noKey.status).toBe(400);
    // Only admins merge.
    const d = await newMember(p);
    expect((await merge(p, c.id, d.id, uniqueKey(), p.keys.storefront)).status).toBe(403);
    expect((await merge(p, c.id, d.id, uniqueKey(), p.keys.partner)).status).toBe(403);
    expect(await sql("SELECT 1 FROM member_merges WHERE source_id = ?", [d.id])).toHaveLength(0);
    await zeroViolations(p.programId);
  });

  it("a crash between its steps leaves both members locked; asking again resumes and nothing is counted twice or lost", async () => {
    const { p, a, b } = await duplicates();
    const before = await programTotals(p.programId);
    undo.push(
      injectMergeFault((step) => {
        if (step === "debited") throw new Error("injected crash after the source was debited");
      }),
    );
    const key = uniqueKey("merge");
    const crashed = await merge(p, a.id, b.id, key);
    expect(crashed.status).toBe(500);
    const [record] = await sql("SELECT status FROM member_merges WHERE source_id = ?", [b.id]);
    expect(record.status).toBe("crediting");
    // Half way: the points are out of B, not yet in A; both refuse writes until the merge finishes.
    expect((await ledgerSum(b.id)).balance).toBe(0);
    expect((await ledgerSum(a.id)).balance).toBe(100);
    const meanwhile = await accrue(p, a.id, 5_000);
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error.code).toBe("merge_in_progress");
    expect((await accrue(p, b.id, 5_000)).body.error.code).toBe("member_merged");

    undo.pop()?.();
    const resumed = await merge(p, a.id, b.id, key);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ pointsMoved: 450, lotsMoved: 2, ordersMoved: 2 });
    expect(await ledgerSum(a.id)).toEqual({ sum: 550, balance: 550, pending: 0, lots: 550 });
    expect(await ledgerSum(b.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    expect(await programTotals(p.programId)).toEqual(before);
    expect(await sql("SELECT 1 FROM ledger_entries WHERE member_id IN (?, ?) AND type = 'merge'", [a.id, b.id])).toHaveLength(2);
    await zeroViolations(p.programId);
    // Unlocked: the member that stays takes writes again; the same request once more replays.
    expect((await accrue(p, a.id, 5_000)).status).toBe(201);
    const replay = await merge(p, a.id, b.id, key);
    expect(replay.body).toEqual(resumed.body);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("a merge stopped half way that nobody asks for again is finished by the resume job", async () => {
    const { p, a, b } = await duplicates();
    const before = await programTotals(p.programId);
    undo.push(
      injectMergeFault((step) => {
        if (step === "debited") throw new Error("injected crash after the source was debited");
      }),
    );
    expect((await merge(p, a.id, b.id)).status).toBe(500);
    undo.pop()?.();
    // Not yet stalled: left alone.
    expect(await resumeStalledMerges(testEnv, new Date(), 100)).toMatchObject({ resumed: 0 });
    expect((await accrue(p, a.id, 1_000)).body.error.code).toBe("merge_in_progress");
    const later = await resumeStalledMerges(testEnv, new Date(Date.now() + 10 * 60_000), 100);
    expect(later.resumed).toBeGreaterThanOrEqual(1);
    const [record] = await sql("SELECT status FROM member_merges WHERE source_id = ?", [b.id]);
    expect(record.status).toBe("completed");
    expect(await ledgerSum(a.id)).toEqual({ sum: 550, balance: 550, pending: 0, lots: 550 });
    expect(await programTotals(p.programId)).toEqual(before);
    await zeroViolations(p.programId);
    expect((await accrue(p, a.id, 1_000)).status).toBe(201);
    // The audit row of a merge the job finished names no key.
    const [audit] = await sql("SELECT key_id FROM audit_log WHERE program_id = ? AND action = 'member.merged'", [p.programId]);
    expect(audit.key_id).toBeNull();
  });

  it("a crash after the last step: asking again answers the result and releases the locks", async () => {
    const { p, a, b } = await duplicates();
    undo.push(
      injectMergeFault((step) => {
        if (step === "credited") throw new Error("injected crash before unlocking");
      }),
    );
    expect((await merge(p, a.id, b.id)).status).toBe(500);
    expect((await accrue(p, a.id, 1_000)).body.error.code).toBe("merge_in_progress");
    undo.pop()?.();
    const again = await merge(p, a.id, b.id);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await accrue(p, a.id, 1_000)).status).toBe(201);
    await zeroViolations(p.programId);
  });

  it("A←B and B←A at once: one merge wins, the other is refused, nothing double-counted", async () => {
    const { p, a, b } = await duplicates();
    const before = await programTotals(p.programId);
    const [x, y] = await Promise.all([merge(p, a.id, b.id), merge(p, b.id, a.id)]);
    const statuses = [x.status, y.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = x.status === 409 ? x : y;
    expect(["merge_in_progress", "member_merged"]).toContain(loser.body.error.code);
    expect(await programTotals(p.programId)).toEqual(before);
    expect(await sql("SELECT 1 FROM member_merges WHERE program_id = ?", [p.programId])).toHaveLength(1);
    const winner = x.status === 200 ? x.body : y.body;
    expect((await ledgerSum(winner.memberId)).balance).toBe(550);
    await zeroViolations(p.programId);
    // Both members are free again (the winner's locks released, the loser left none).
    expect((await accrue(p, winner.memberId, 1_000)).status).toBe(201);
  });

  it("refuses a duplicate with an open checkout hold and leaves no trace", async () => {
    const { p, a, b } = await duplicates();
    const hold = await call("POST", `/v1/members/${b.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 10, reason: "checkout", capture: false },
    });
    expect(hold.status).toBe(201);
    const res = await merge(p, a.id, b.id);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/checkout holds/);
    expect(await sql("SELECT 1 FROM member_merges WHERE program_id = ?", [p.programId])).toHaveLength(0);
    // Both unlocked; once the hold is voided the merge goes through.
    expect((await accrue(p, b.id, 1_000)).status).toBe(201);
    const voided = await call("POST", `/v1/redemptions/${hold.body.redemption.id}/void`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
    });
    expect(voided.status).toBe(200);
    expect((await merge(p, a.id, b.id)).status).toBe(200);
    await zeroViolations(p.programId);
  });
});
