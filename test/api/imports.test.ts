// Migration imports through the ledger: opening balances and past purchases are written by each
// member's Durable Object through the bulk admin routes the CLI calls, idempotent per member.
import { describe, expect, it } from "vitest";
import { callDirect as call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.now() + days * DAY).toISOString();

const balances = (p: TestProgram, members: unknown[], key = p.keys.admin) =>
  call("POST", "/v1/imports/balances", { key, body: { members } });
const transactions = (p: TestProgram, body: unknown, key = p.keys.admin) => call("POST", "/v1/imports/transactions", { key, body });

describe("POST /v1/imports/balances", () => {
  it("writes each lot as a migration entry with its own dates, sets the member's figures, and a re-sent member writes nothing", async () => {
    const p = await newProgram();
    const bronze = await call("POST", "/v1/tiers", {
      key: p.keys.admin,
      body: { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
    });
    expect(bronze.status, JSON.stringify(bronze.body)).toBe(201);
    const gold = await call("POST", "/v1/tiers", {
      key: p.keys.admin,
      body: { name: "Gold", rank: 1, qualification: { windowDays: 365, minSpend: 1_000_000 } },
    });
    expect(gold.status, JSON.stringify(gold.body)).toBe(201);
    const m = await newMember(p);
    const other = await newMember(p);
    const code = `MIG${Date.now().toString(36).toUpperCase()}`;
    const part = {
      externalId: m.externalId,
      legacyId: "OLD-77",
      lots: [
        { points: 1200, earnedAt: at(-400), expiresAt: at(30) },
        { points: 300, earnedAt: at(-2), availableAt: at(5) },
      ],
      lifetimeEarned: 5400,
      lifetimeRedeemed: 3900,
      tier: "gold",
      tierSecuredUntil: at(200),
      referralCode: code,
    };
    const otherPart = { memberId: other.id, lots: [{ points: 50, earnedAt: at(-10) }] };
    const res = await balances(p, [part, otherPart]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({ index: 0, memberId: m.id, status: "imported", points: 1500 }),
      expect.objectContaining({ index: 1, memberId: other.id, status: "imported", points: 50 }),
    ]);
    expect(await ledgerSum(m.id)).toEqual({ sum: 1500, balance: 1500, pending: 300, lots: 1500 });
    const entries = await sql(
      "SELECT type, points, reason, source_type, source_id, created_at FROM ledger_entries WHERE member_id = ? ORDER BY id",
      [m.id],
    );
    expect(entries.map((e) => [e.type, e.points, e.reason, e.source_type, e.source_id])).toEqual([
      ["earn", 1200, "migration", "migration", "OLD-77"],
      ["earn", 300, "migration", "migration", "OLD-77"],
    ]);
    expect(String(entries[0].created_at)).toBe(part.lots[0].earnedAt);
    const lots = await sql(
      "SELECT points, remaining, released, available_at, expires_at, created_at FROM point_lots WHERE member_id = ? ORDER BY created_at",
      [m.id],
    );
    expect(lots.map((l) => [l.points, l.released, l.available_at, l.expires_at, l.created_at])).toEqual([
      [1200, 1, part.lots[0].earnedAt, part.lots[0].expiresAt, part.lots[0].earnedAt],
      [300, 0, part.lots[1].availableAt, null, part.lots[1].earnedAt],
    ]);
    const [row] = await sql(
      "SELECT lifetime_earned, lifetime_redeemed, tier_id, tier_secured_until, referral_code, json_extract(attributes, '$.legacyId') AS legacy FROM members WHERE id = ?",
      [m.id],
    );
    expect(row).toMatchObject({
      lifetime_earned: 5400,
      lifetime_redeemed: 3900,
      tier_id: gold.body.id,
      tier_secured_until: part.tierSecuredUntil,
      referral_code: code,
      legacy: "OLD-77",
    });
    expect(await sql("SELECT change, reason FROM tier_history WHERE member_id = ?", [m.id])).toEqual([
      expect.objectContaining({ change: "migration", reason: "migration" }),
    ]);
    const balance = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront });
    expect(balance.body).toMatchObject({ available: 1200, pending: 300 });

    // The same batch again (a CLI re-sending after a kill): replayed, nothing new.
    const again = await balances(p, [part, otherPart]);
    expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(["replayed", "replayed"]);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 1500, balance: 1500 });
    expect(await ledgerSum(other.id)).toMatchObject({ sum: 50, balance: 50 });
    // Other figures for a member already migrated: refused, nothing written.
    const changed = await balances(p, [{ ...part, lots: [{ points: 9999, earnedAt: at(-1) }] }]);
    expect(changed.body.results[0]).toMatchObject({ status: "rejected", code: "idempotency_conflict" });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 1500, balance: 1500 });
    const audit = await call("GET", "/v1/audit?limit=10", { key: p.keys.admin });
    expect(
      audit.body.data.filter((a: { action: string }) => a.action === "import.balances").map((a: { after: unknown }) => a.after),
    ).toEqual([
      { members: 1, imported: 0, replayed: 0, existing: 0, rejected: 1, points: 0 },
      { members: 2, imported: 0, replayed: 2, existing: 0, rejected: 0, points: 1550 },
      { members: 2, imported: 2, replayed: 0, existing: 0, rejected: 0, points: 1550 },
    ]);
  });

  it("never half a member: an expired lot, an unknown tier or a taken referral code rejects the whole member", async () => {
    const p = await newProgram();
    const [a, b, c, d] = [await newMember(p), await newMember(p), await newMember(p), await newMember(p)];
    const res = await balances(p, [
      {
        externalId: a.externalId,
        lots: [
          { points: 10, earnedAt: at(-5) },
          { points: 20, earnedAt: at(-400), expiresAt: at(-1) },
        ],
      },
      { externalId: b.externalId, lots: [{ points: 10, earnedAt: at(-5) }], tier: "Diamond" },
      { externalId: c.externalId, lots: [{ points: 10, earnedAt: at(-5) }], referralCode: d.referralCode },
      { externalId: d.externalId, lots: [{ points: 10, earnedAt: at(-5) }], lifetimeEarned: 5 },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string; code: string }) => [r.status, r.code])).toEqual([
      ["rejected", "invalid_request"],
      ["rejected", "invalid_request"],
      ["rejected", "conflict"],
      ["rejected", "invalid_request"],
    ]);
    for (const m of [a, b, c, d]) expect(await ledgerSum(m.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    expect(Number((await sql("SELECT COUNT(*) AS n FROM point_lots WHERE program_id = ?", [p.programId]))[0].n)).toBe(0);
  });

  it("goes through the same lot rules: a negative balance is repaid first, and the balance is the sum of the ledger", async () => {
    const p = await newProgram({ allowNegativeBalance: true });
    const m = await newMember(p);
    const debit = await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("adj"),
      body: { points: -40, reason: "owed before the migration" },
    });
    expect(debit.status, JSON.stringify(debit.body)).toBe(201);
    const res = await balances(p, [{ memberId: m.id, lots: [{ points: 100, earnedAt: at(-3) }] }]);
    expect(res.body.results[0]).toMatchObject({ status: "imported", points: 100 });
    expect(await ledgerSum(m.id)).toEqual({ sum: 60, balance: 60, pending: 0, lots: 60 });
  });

  it("an opening balance and live checkouts of the same member take turns: every point is counted once", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const topUp = await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("adj"),
      body: { points: 300, reason: "live points" },
    });
    expect(topUp.status).toBe(201);
    const lots = Array.from({ length: 20 }, (_, i) => ({ points: 25, earnedAt: at(-30 + i) }));
    const [imported, ...redeemed] = await Promise.all([
      balances(p, [{ memberId: m.id, lots }]),
      ...Array.from({ length: 6 }, () =>
        call("POST", `/v1/members/${m.id}/redemptions`, {
          key: p.keys.storefront,
          idempotencyKey: uniqueKey("rdm"),
          body: { points: 100, reason: "checkout" },
        }),
      ),
    ]);
    expect(imported.body.results[0]).toMatchObject({ status: "imported", points: 500 });
    const spent = redeemed.filter((r) => r.status === 201).length * 100;
    expect(redeemed.every((r) => r.status === 201 || r.body.error?.code === "insufficient_points")).toBe(true);
    expect(await ledgerSum(m.id)).toEqual({ sum: 800 - spent, balance: 800 - spent, pending: 0, lots: 800 - spent });
    const [{ off }] = await sql(
      "SELECT COUNT(*) AS off FROM point_lots l WHERE l.member_id = ? AND l.points - l.remaining <> (SELECT COALESCE(SUM(points), 0) FROM lot_allocations a WHERE a.lot_id = l.id)",
      [m.id],
    );
    expect(Number(off)).toBe(0);
  });

  it("refuses storefront and partner keys, another program's member, and an unknown customer", async () => {
    const p = await newProgram();
    const q = await newProgram();
    const theirs = await newMember(q);
    const part = { memberId: theirs.id, lots: [{ points: 1000, earnedAt: at(-1) }] };
    for (const key of [p.keys.storefront, p.keys.partner, q.keys.storefront, q.keys.partner]) {
      expect((await balances(p, [part], key)).status).toBe(403);
      const tx = await transactions(
        p,
        {
          award: "rules",
          members: [{ memberId: theirs.id, orders: [{ orderId: uniqueKey("o"), amount: 100, currency: "USD", occurredAt: at(-1) }] }],
        },
        key,
      );
      expect(tx.status).toBe(403);
    }
    expect((await call("POST", "/v1/imports/balances", { body: { members: [part] } })).status).toBe(401);
    // Program p's admin naming program q's member: refused, and q's member is untouched.
    const cross = await balances(p, [part, { externalId: theirs.externalId, lots: [{ points: 5, earnedAt: at(-1) }] }]);
    expect(cross.body.results).toEqual([
      expect.objectContaining({ status: "rejected", code: "not_found", memberId: null }),
      expect.objectContaining({ status: "rejected", code: "not_found", memberId: null }),
    ]);
    const crossTx = await transactions(p, {
      award: "rules",
      members: [{ memberId: theirs.id, orders: [{ orderId: uniqueKey("o"), amount: 100, currency: "USD", occurredAt: at(-1) }] }],
    });
    expect(crossTx.body.results[0]).toMatchObject({ status: "rejected", code: "not_found" });
    expect(await ledgerSum(theirs.id)).toEqual({ sum: 0, balance: 0, pending: 0, lots: 0 });
    expect(Number((await sql("SELECT COUNT(*) AS n FROM orders WHERE member_id = ?", [theirs.id]))[0].n)).toBe(0);
  });
});

describe("POST /v1/imports/members", () => {
  it("inserts new members, keeps existing ones as they are, and is admin-only", async () => {
    const p = await newProgram();
    const known = await newMember(p, { email: "kept@example.com" });
    const fresh = uniqueKey("new");
    const body = {
      members: [
        { externalId: fresh, email: "new@example.com", joinedAt: "2021-05-04T09:00:00Z" },
        { externalId: known.externalId, email: "changed@example.com" },
      ],
    };
    for (const key of [p.keys.storefront, p.keys.partner])
      expect((await call("POST", "/v1/imports/members", { key, body })).status).toBe(403);
    const res = await call("POST", "/v1/imports/members", { key: p.keys.admin, body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({ index: 0, status: "imported", memberId: expect.stringMatching(/^mem_/) }),
      { index: 1, status: "existing", memberId: known.id },
    ]);
    const rows = await sql("SELECT external_id, email, created_at FROM members WHERE program_id = ? ORDER BY created_at", [p.programId]);
    expect(rows.map((r) => [r.external_id, r.email])).toEqual([
      [fresh, "new@example.com"],
      [known.externalId, "kept@example.com"],
    ]);
    const again = await call("POST", "/v1/imports/members", { key: p.keys.admin, body });
    expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(["existing", "existing"]);
  });
});

describe("POST /v1/imports/transactions", () => {
  it("requires an explicit award; `none` records history without points", async () => {
    const p = await newProgram();
    const order = { orderId: uniqueKey("o"), amount: 5000, currency: "USD", occurredAt: at(-30) };
    const missing = await transactions(p, { members: [{ externalId: uniqueKey("c"), orders: [order] }] });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain("award");
    const externalId = uniqueKey("c");
    const res = await transactions(p, { award: "none", members: [{ externalId, orders: [order] }] });
    expect(res.body.results[0]).toMatchObject({ status: "imported", points: 0, imported: 1 });
    const [m] = await sql("SELECT id, orders_count, lifetime_spend, points_balance FROM members WHERE program_id = ? AND external_id = ?", [
      p.programId,
      externalId,
    ]);
    expect(m).toMatchObject({ orders_count: 1, lifetime_spend: 5000, points_balance: 0 });
    expect(await ledgerSum(String(m.id))).toMatchObject({ sum: 0 });
  });

  it("`rules` earns with per-member caps and budgets counted order by order; re-sent or re-batched writes nothing new", async () => {
    const p = await newProgram({ expiryDays: null });
    const rule = await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: { name: "Bonus", trigger: { type: "purchase" }, effect: { type: "fixed", points: 100 }, capPerMember: 150, budgetPoints: 250 },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const orders = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ orderId: `${tag}-${i}`, amount: 1000, currency: "USD", occurredAt: at(-10 + i) }));
    const a = { externalId: uniqueKey("a"), orders: orders(3, uniqueKey("a")) };
    const b = { externalId: uniqueKey("b"), orders: orders(2, uniqueKey("b")) };
    const res = await transactions(p, { award: "rules", members: [a, b] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // Base 10 points per order; the bonus is capped at 150 per member and 250 in all, however the
    // two members' writes interleave.
    const [first, second] = res.body.results;
    expect(first.points + second.points).toBe(50 + 250);
    expect(first.points - 30).toBeLessThanOrEqual(150);
    expect(second.points - 20).toBeLessThanOrEqual(200);
    expect(Number((await sql("SELECT points_awarded FROM earning_rules WHERE id = ?", [rule.body.id]))[0].points_awarded)).toBe(250);
    for (const r of res.body.results) expect(await ledgerSum(r.memberId)).toMatchObject({ sum: r.points, balance: r.points });

    const again = await transactions(p, { award: "rules", members: [a, b] });
    expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(["replayed", "replayed"]);
    // Batched differently (a CLI re-run with another --batch): the orders are skipped.
    const rebatched = await transactions(p, { award: "rules", members: [{ ...a, orders: a.orders.slice(1) }] });
    expect(rebatched.body.results[0]).toMatchObject({ status: "imported", imported: 0, skippedExisting: 2, points: 0 });
    expect(await ledgerSum(first.memberId)).toMatchObject({ sum: first.points, balance: first.points });
    expect(Number((await sql("SELECT COUNT(*) AS n FROM orders WHERE program_id = ?", [p.programId]))[0].n)).toBe(5);
  });
});
