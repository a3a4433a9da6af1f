import { describe, expect, it } from "vitest";
import { loadTiers } from "../../src/services/tiers/ladder";
import { requalifyProgram } from "../../src/services/tiers/requalify";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

const DAY = 86_400_000;

async function addRule(p: TestProgram, rule: Record<string, unknown>) {
  const res = await call("POST", "/v1/rules", { key: p.keys.admin, body: rule });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

async function addTiers(p: TestProgram) {
  const ladder = [
    { name: "Bronze", rank: 0, qualification: { windowDays: 365 }, benefits: {} },
    {
      name: "Silver",
      rank: 1,
      qualification: { windowDays: 365, minSpend: 50_000 },
      benefits: { pointsMultiplier: 1.25, discountPct: 5 },
      graceDays: 30,
    },
    {
      name: "Gold",
      rank: 2,
      qualification: { windowDays: 365, minSpend: 150_000, minOrders: 10, mode: "any" },
      benefits: { pointsMultiplier: 1.5, freeShipping: true },
      graceDays: 30,
    },
  ];
  const out = [];
  for (const t of ladder) {
    const res = await call("POST", "/v1/tiers", { key: p.keys.admin, body: t });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    out.push(res.body as { id: string; name: string });
  }
  return out;
}

/** A small deterministic PRNG so the generated carts are the same on every run. */
function rng(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("earning rules, quote and tiers", () => {
  it("quote and accrual agree over many generated carts", async () => {
    const p = await newProgram();
    await addTiers(p);
    await addRule(p, {
      name: "Shoes x2",
      trigger: { type: "purchase" },
      conditions: { categories: { include: ["shoes"] } },
      effect: { type: "multiplier", factor: 2 },
      priority: 5,
    });
    const bonusRule = await addRule(p, {
      name: "Big basket bonus",
      trigger: { type: "purchase" },
      conditions: { minAmount: 20_000 },
      effect: { type: "fixed", points: 50 },
      priority: 3,
      capPerMember: 150,
    });
    await addRule(p, {
      name: "App orders",
      trigger: { type: "purchase" },
      conditions: { channels: ["app"] },
      effect: { type: "per_currency_unit", points: 1, perMinorUnits: 200 },
      priority: 1,
    });
    await addRule(p, {
      name: "Welcome order",
      trigger: { type: "purchase" },
      conditions: { firstPurchase: true },
      effect: { type: "fixed", points: 200 },
      priority: 100,
      stackable: false,
    });
    await addRule(p, {
      name: "No gift cards",
      trigger: { type: "purchase" },
      conditions: { skus: { exclude: ["GIFT"] } },
      effect: { type: "per_currency_unit", points: 1, perMinorUnits: 1000 },
      priority: 0,
    });
    const random = rng(42);
    const members = [await newMember(p), await newMember(p), await newMember(p)];
    let fired = 0;
    let discounted = 0;
    for (let i = 0; i < 45; i++) {
      const m = members[i % members.length];
      const items = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, j) => ({
        sku: random() < 0.15 ? "GIFT" : `SKU-${j}`,
        category: ["shoes", "apparel", "home"][Math.floor(random() * 3)],
        quantity: 1 + Math.floor(random() * 3),
        unitPrice: 500 + Math.floor(random() * 12_000),
      }));
      const amount = items.reduce((s, it) => s + it.quantity * it.unitPrice, 0);
      const cart = { amount, currency: "USD", items, channel: random() < 0.5 ? "app" : "web" };
      const quote = await call("POST", "/v1/quote", { key: p.keys.storefront, body: { memberId: m.id, ...cart } });
      expect(quote.status, JSON.stringify(quote.body)).toBe(200);
      // The shop charges what is due after the tier's discount line (Silver and Gold have one), with
      // the items scaled in proportion, as the quote priced them.
      const due = quote.body.amountDue as number;
      expect(due).toBe(amount - (quote.body.discounts as Array<{ amount: number }>).reduce((s, d) => s + d.amount, 0));
      const paidItems = items.map((it) => ({ ...it, unitPrice: Math.floor((it.unitPrice * due) / amount) }));
      const accrual = await accrue(p, m.id, due, { items: paidItems, channel: cart.channel });
      expect(accrual.status, JSON.stringify(accrual.body)).toBe(201);
      expect(accrual.body.pointsEarned, `cart ${i}`).toBe(quote.body.points);
      fired += quote.body.lines.length;
      discounted += quote.body.discounts.length;
    }
    expect(fired).toBeGreaterThan(45); // rules beyond the base line really fired
    expect(discounted).toBeGreaterThan(0); // and members reached a tier with a discount
    for (const m of members) {
      const s = await ledgerSum(m.id);
      expect(s.sum).toBe(s.balance);
    }
    // The per-member cap of the bonus rule held.
    const usage = await db().$client.execute({
      sql: "SELECT MAX(points) AS m FROM rule_member_usage WHERE rule_id = ?",
      args: [bonusRule.id],
    });
    expect(Number(usage.rows[0].m)).toBeLessThanOrEqual(150);
  });

  it("a guest quote works without a member; bad quotes are 4xx", async () => {
    const p = await newProgram();
    const guest = await call("POST", "/v1/quote", { key: p.keys.storefront, body: { amount: 12_345, currency: "USD" } });
    expect(guest.body).toMatchObject({ points: 123, basePoints: 123, tierMultiplier: 1 });
    expect((await call("POST", "/v1/quote", { key: p.keys.storefront, body: { amount: 100, currency: "EUR" } })).status).toBe(400);
    expect(
      (await call("POST", "/v1/quote", { key: p.keys.storefront, body: { memberId: "mem_nope", amount: 100, currency: "USD" } })).status,
    ).toBe(404);
    const badRule = await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: { name: "x", trigger: { type: "purchase" }, effect: { type: "fixed", points: -5 } },
    });
    expect(badRule.status).toBe(400);
    expect(
      (
        await call("POST", "/v1/rules", {
          key: p.keys.storefront,
          body: { name: "x", trigger: { type: "purchase" }, effect: { type: "fixed", points: 5 } },
        })
      ).status,
    ).toBe(403);
  });

  it("rule CRUD is audited and a rule's budget holds under concurrent awards", async () => {
    const p = await newProgram();
    const rule = await addRule(p, {
      name: "Launch bonus",
      trigger: { type: "purchase" },
      effect: { type: "fixed", points: 100 },
      budgetPoints: 500,
    });
    const patched = await call("PATCH", `/v1/rules/${rule.id}`, { key: p.keys.admin, body: { priority: 7 } });
    expect(patched.body).toMatchObject({ priority: 7, name: "Launch bonus", budgetPoints: 500 });
    const members = await Promise.all(Array.from({ length: 12 }, () => newMember(p)));
    const results = await Promise.all(members.map((m) => accrue(p, m.id, 1000)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const bonus = results.reduce((s, r) => s + r.body.pointsEarned - 10, 0);
    expect(bonus).toBe(500);
    const stored = await call("GET", `/v1/rules/${rule.id}`, { key: p.keys.admin });
    expect(stored.body.pointsAwarded).toBe(500);
    const audit = await db().$client.execute({
      sql: "SELECT action FROM audit_log WHERE entity_id = ? ORDER BY created_at",
      args: [rule.id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(["rule.created", "rule.updated"]);
    expect((await call("DELETE", `/v1/rules/${rule.id}`, { key: p.keys.admin })).status).toBe(204);
    expect((await call("GET", `/v1/rules/${rule.id}`, { key: p.keys.admin })).status).toBe(404);
  });

  it("activities earn through their rules, idempotently", async () => {
    const p = await newProgram();
    await addRule(p, { name: "Review", trigger: { type: "review" }, effect: { type: "fixed", points: 75 } });
    await addRule(p, {
      name: "Check-in",
      trigger: { type: "activity", kind: "store_checkin" },
      effect: { type: "fixed", points: 10 },
      capPerMember: 20,
    });
    const m = await newMember(p);
    const key = uniqueKey("act");
    const review = await call("POST", `/v1/members/${m.id}/activities`, {
      key: p.keys.storefront,
      idempotencyKey: key,
      body: { kind: "review", attributes: { sku: "A" } },
    });
    expect(review.status).toBe(201);
    expect(review.body.pointsEarned).toBe(75);
    const replay = await call("POST", `/v1/members/${m.id}/activities`, {
      key: p.keys.storefront,
      idempotencyKey: key,
      body: { kind: "review", attributes: { sku: "A" } },
    });
    expect(replay.body).toEqual(review.body);
    const checkins = [];
    for (let i = 0; i < 3; i++)
      checkins.push(
        (
          await call("POST", `/v1/members/${m.id}/activities`, {
            key: p.keys.storefront,
            idempotencyKey: uniqueKey(),
            body: { kind: "store_checkin" },
          })
        ).body.pointsEarned,
      );
    expect(checkins).toEqual([10, 10, 0]);
    const other = await call("POST", `/v1/members/${m.id}/activities`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { kind: "app_login" },
    });
    expect(other.body.pointsEarned).toBe(0);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 95, balance: 95 });
  });

  it("upgrades on the qualifying accrual, shows progress, and downgrades only after grace", async () => {
    const p = await newProgram();
    const [bronze, silver, gold] = await addTiers(p);
    const m = await newMember(p);
    const first = await accrue(p, m.id, 30_000);
    const progress = await call("GET", `/v1/members/${m.id}/tier`, { key: p.keys.storefront });
    expect(progress.status).toBe(200);
    expect(progress.body.current.id).toBe(bronze.id);
    expect(progress.body.next.name).toBe("Silver");
    expect(progress.body.requirements[0]).toMatchObject({
      metric: "spend",
      required: 50_000,
      current: 30_000,
      missing: 20_000,
      percent: 60,
    });
    expect(progress.body.message).toContain("200.00");
    expect(first.body.tierChange?.to ?? bronze.id).toBe(bronze.id);

    const up = await accrue(p, m.id, 25_000);
    expect(up.body.tierChange).toMatchObject({ to: silver.id, change: "upgrade" });
    // Silver's 1.25 multiplier applies from the next purchase.
    const next = await accrue(p, m.id, 10_000);
    expect(next.body.pointsEarned).toBe(125);
    const member = await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront });
    expect(member.body.tier).toMatchObject({ id: silver.id, name: "Silver" });
    const securedUntil = member.body.tier.securedUntil as string;
    expect(Date.parse(securedUntil) - Date.now()).toBeGreaterThan(360 * DAY);
    const atSilver = await call("GET", `/v1/members/${m.id}/tier`, { key: p.keys.storefront });
    expect(atSilver.body.next.id).toBe(gold.id);
    expect(atSilver.body.securedUntil).toBe(securedUntil);

    // The orders age out of the window; within grace nothing changes, after grace the member drops to what the window supports.
    const ladder = await loadTiers(db(), p.programId);
    const requalify = (days: number) => requalifyProgram(db(), p.programId, ladder, new Date(Date.now() + days * DAY), 100);
    await requalify(380);
    expect((await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin })).body.tier.id).toBe(silver.id);
    await requalify(400);
    // A cron's change reaches the (cached) lookup within MEMBER_VIEW_MAX_AGE_SECONDS; ask for it now.
    const after = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin, headers: { "cache-control": "no-cache" } });
    expect(after.body.tier.id).toBe(bronze.id);
    const events = await db().$client.execute({
      sql: "SELECT json_extract(payload, '$.change') AS change FROM outbox_events WHERE member_id = ? AND type = 'tier.changed' ORDER BY id",
      args: [m.id],
    });
    expect(events.rows.map((r) => r.change)).toEqual(["upgrade", "upgrade", "downgrade"]);
    const history = await db().$client.execute({ sql: "SELECT change FROM tier_history WHERE member_id = ? ORDER BY id", args: [m.id] });
    expect(history.rows.map((r) => r.change)).toEqual(["upgrade", "upgrade", "downgrade"]);
  });
});

describe("signup and birthday rules", () => {
  it("awards a signup bonus once and a birthday bonus once a year", async () => {
    const p = await newProgram();
    await addRule(p, { name: "Welcome", trigger: { type: "signup" }, effect: { type: "fixed", points: 150 } });
    await addRule(p, { name: "Happy birthday", trigger: { type: "birthday" }, effect: { type: "fixed", points: 300 } });
    const today = new Date().toISOString().slice(5, 10);
    const externalId = uniqueKey("bday");
    const first = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId, birthday: `1990-${today}` } });
    expect(first.status).toBe(201);
    expect(first.body.balance.total).toBe(150);
    const again = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId } });
    expect(again.status).toBe(200);
    expect(again.body.balance.total).toBe(150);
    const { testEnv } = await import("./helpers");
    const { schedule } = await import("../../src/cron/schedule");
    const birthdayJob = schedule["0 * * * *"].find((j) => j.name === "rules.birthday")!;
    await birthdayJob.run({ env: testEnv, now: new Date(), batchSize: 100 });
    await birthdayJob.run({ env: testEnv, now: new Date(), batchSize: 100 });
    expect(await ledgerSum(first.body.id)).toMatchObject({ sum: 450, balance: 450 });
  });
});

describe("configuration validation", () => {
  it("an invalid PATCH of a rule or tier is a 400 with the failing fields, and changes nothing", async () => {
    const p = await newProgram();
    const rule = await addRule(p, { name: "R", trigger: { type: "purchase" }, effect: { type: "fixed", points: 5 } });
    const bad = await call("PATCH", `/v1/rules/${rule.id}`, { key: p.keys.admin, body: { effect: { type: "fixed", points: -1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect((await call("GET", `/v1/rules/${rule.id}`, { key: p.keys.admin })).body.effect.points).toBe(5);
    const [bronze] = await addTiers(p);
    const badTier = await call("PATCH", `/v1/tiers/${bronze.id}`, { key: p.keys.admin, body: { qualification: { windowDays: 0 } } });
    expect(badTier.status).toBe(400);
    const dupRank = await call("POST", "/v1/tiers", {
      key: p.keys.admin,
      body: { name: "Other", rank: 1, qualification: { windowDays: 30 } },
    });
    expect(dupRank.status).toBe(400);
  });
});
