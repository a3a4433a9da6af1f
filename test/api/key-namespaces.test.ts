// Client Idempotency-Keys and the keys the system derives for its own writes never collide.
// For every internal key prefix (SYSTEM_KEY_PREFIXES, from the code) and every write route that
// takes an Idempotency-Key (from the route registry), a client sends that route the very key a
// pending system operation is about to use; the system operation must still succeed. Before the
// namespaces were split, a storefront accrual with key `partner:<eventId>` made that partner
// event fail with 409 forever, and the same held for referral settlements, campaign awards,
// coupon cancellations and signup/birthday bonuses.
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { programs } from "../../schema";
import { SYSTEM_KEY_PREFIXES, systemKeys } from "../../src/ledger/system-keys";
import { sha256Hex } from "../../src/lib/crypto";
import { importTransactions } from "../../src/services/admin/bulk-import";
import { loadActiveCampaigns } from "../../src/services/campaigns/campaigns";
import { fireCampaign } from "../../src/services/campaigns/fire";
import { expireLots } from "../../src/services/ledger/lots";
import { settleReferrals } from "../../src/services/referrals/referrals";
import { awardTrigger } from "../../src/services/rules/trigger-awards";
import { issueTierBirthdayGift } from "../../src/services/tiers/calendar-gifts";
import {
  callDirect as call,
  db,
  ledgerSum,
  newMember,
  newProgram,
  partnerSignature,
  type TestProgram,
  testEnv,
  uniqueKey,
} from "./helpers";
import { type Operation, operations, unlimited } from "./route-probes";

const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

/** A program with a member who can make every client write (points, an order to refund, a reward to redeem). */
type Stage = { p: TestProgram; attacker: { id: string }; orderId: string; rewardId: string; extra: unknown };

async function stage(p: TestProgram, extra: unknown = null): Promise<Stage> {
  await unlimited(p);
  const attacker = await newMember(p);
  const orderId = uniqueKey("order");
  const bought = await call("POST", `/v1/members/${attacker.id}/accruals`, {
    key: p.keys.admin,
    idempotencyKey: uniqueKey("setup"),
    body: { orderId, amount: 1_000_000, currency: "USD" },
  });
  expect(bought.status, JSON.stringify(bought.body)).toBe(201);
  const reward = await call("POST", "/v1/rewards", {
    key: p.keys.admin,
    body: { name: "Probe", kind: "coupon_percent", value: 5, pointsCost: 1, costMinor: 1 },
  });
  expect(reward.status, JSON.stringify(reward.body)).toBe(201);
  return { p, attacker, orderId, rewardId: reward.body.id, extra };
}

/** The client write of `op` a storefront (or admin) would send, carrying `idempotencyKey`. */
async function clientWrite(op: Operation, s: Stage, idempotencyKey: string) {
  const m = s.attacker.id;
  /** A fresh redemption of the attacker's to capture, void (a reserve) or reverse (captured). */
  const redemption = async (capture: boolean) => {
    const made = await call("POST", `/v1/members/${m}/redemptions`, {
      key: s.p.keys.storefront,
      idempotencyKey: uniqueKey("rdm"),
      body: { points: 1, reason: "probe", capture },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body.redemption.id as string;
  };
  const asyncWrites: Record<string, () => Promise<{ path: string; key: string; body?: unknown }>> = {
    // A fresh duplicate merged into the attacker (a retry with the same key names another: 409).
    "/v1/members/{memberId}/merge": async () => ({
      path: `/v1/members/${m}/merge`,
      key: s.p.keys.admin,
      body: { from: (await newMember(s.p)).id },
    }),
    "/v1/redemptions/{redemptionId}/capture": async () => ({
      path: `/v1/redemptions/${await redemption(false)}/capture`,
      key: s.p.keys.storefront,
    }),
    "/v1/redemptions/{redemptionId}/void": async () => ({
      path: `/v1/redemptions/${await redemption(false)}/void`,
      key: s.p.keys.storefront,
    }),
    "/v1/redemptions/{redemptionId}/reverse": async () => ({
      path: `/v1/redemptions/${await redemption(true)}/reverse`,
      key: s.p.keys.storefront,
    }),
  };
  if (asyncWrites[op.path]) {
    const { path, key, body } = await asyncWrites[op.path]();
    return call(op.method, path, { key, idempotencyKey, body });
  }
  const write: Record<string, () => { path: string; key: string; body?: unknown }> = {
    "/v1/members/{memberId}/accruals": () => ({
      path: `/v1/members/${m}/accruals`,
      key: s.p.keys.storefront,
      body: { orderId: uniqueKey("order"), amount: 1000, currency: "USD" },
    }),
    "/v1/members/{memberId}/redemptions": () => ({
      path: `/v1/members/${m}/redemptions`,
      key: s.p.keys.storefront,
      body: { points: 1, reason: "probe" },
    }),
    "/v1/members/{memberId}/adjustments": () => ({
      path: `/v1/members/${m}/adjustments`,
      key: s.p.keys.admin,
      body: { points: 1, reason: "probe" },
    }),
    "/v1/orders/{orderId}/refunds": () => ({ path: `/v1/orders/${s.orderId}/refunds`, key: s.p.keys.storefront, body: { amount: 1 } }),
    "/v1/members/{memberId}/activities": () => ({
      path: `/v1/members/${m}/activities`,
      key: s.p.keys.storefront,
      body: { kind: "store_checkin" },
    }),
    "/v1/members/{memberId}/rewards/{rewardId}/redeem": () => ({
      path: `/v1/members/${m}/rewards/${s.rewardId}/redeem`,
      key: s.p.keys.storefront,
    }),
    "/v1/members/{memberId}/feedback": () => ({
      path: `/v1/members/${m}/feedback`,
      key: s.p.keys.storefront,
      body: { kind: "nps", score: 9 },
    }),
  };
  const make = write[op.path];
  if (!make) throw new Error(`${op.method} ${op.path} takes an Idempotency-Key: add its client write to key-namespaces.test.ts`);
  const { path, key, body } = make();
  return call(op.method, path, { key, body, idempotencyKey });
}

/** One pending system operation: the key it will use, and running it (asserting it succeeded). */
type Instance = { key: string; run: () => Promise<void> };
type Scenario = { setup: (p: TestProgram) => Promise<any>; prepare: (s: Stage, extra: any) => Promise<Instance> };

async function postPartnerEvent(p: TestProgram, event: Record<string, unknown>) {
  const raw = JSON.stringify(event);
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: {
      "content-type": "application/json",
      ...partnerSignature(p.partnerSigningSecret, raw),
    },
  });
}
const addRule = async (p: TestProgram, body: Record<string, unknown>) =>
  expect((await call("POST", "/v1/rules", { key: p.keys.admin, body })).status).toBe(201);

/** For each internal prefix, how to set up the system operation that uses it and check it still works. */
const scenarios: Record<string, Scenario> = {
  "partner:": {
    setup: async () => null,
    prepare: async (s) => {
      const eventId = uniqueKey("evt");
      return {
        key: systemKeys.partner(eventId),
        run: async () => {
          const res = await postPartnerEvent(s.p, {
            eventId,
            type: "sale",
            externalId: uniqueKey("cust"),
            orderId: uniqueKey("o"),
            amount: 5000,
            currency: "USD",
          });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          expect(res.body.result.pointsEarned).toBe(50);
        },
      };
    },
  },
  "referral:": {
    setup: async (p) =>
      expect(
        (
          await call("PUT", "/v1/referral-program", {
            key: p.keys.admin,
            body: { referrerPoints: 500, refereePoints: 0, maxPerMonth: null, minOrderAmount: 0 },
          })
        ).status,
      ).toBe(200),
    prepare: async (s) => {
      const referrer = await newMember(s.p);
      const referee = await newMember(s.p, { referralCode: referrer.referralCode });
      const [referral] = await sql("SELECT id FROM referrals WHERE referee_id = ?", [referee.id]);
      return {
        // Poisoned while still pending, so no other test file's settle cron can get there first.
        key: systemKeys.referral(String(referral.id), "referrer"),
        run: async () => {
          const bought = await call("POST", `/v1/members/${referee.id}/accruals`, {
            key: s.p.keys.storefront,
            idempotencyKey: uniqueKey("acc"),
            body: { orderId: uniqueKey("o"), amount: 1000, currency: "USD" },
          });
          expect(bought.body.referral?.status).toBe("qualified");
          const settled = await settleReferrals(testEnv, db(), 100, new Date(), { programId: s.p.programId });
          expect(settled.failed).toBe(0);
          const [row] = await sql("SELECT status FROM referrals WHERE id = ?", [referral.id]);
          expect(row.status).toBe("rewarded");
          expect((await ledgerSum(referrer.id)).sum).toBe(500);
        },
      };
    },
  },
  "campaign:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      // Created after the member, so no signup event fires it behind our back; fired here directly.
      const created = await call("POST", "/v1/campaigns", {
        key: s.p.keys.admin,
        body: { name: uniqueKey("Welcome"), trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 25 }] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const occurrenceKey = uniqueKey("occ");
      return {
        key: systemKeys.campaign(created.body.id, member.id, occurrenceKey),
        run: async () => {
          const [campaign] = (await loadActiveCampaigns(db(), [s.p.programId], ["welcome"])).filter((c) => c.row.id === created.body.id);
          const counts = await fireCampaign(testEnv, campaign, [{ memberId: member.id, occurrenceKey }], new Date());
          expect(counts).toMatchObject({ fired: 1, awarded: 1, failed: 0 });
          expect((await ledgerSum(member.id)).sum).toBe(25);
        },
      };
    },
  },
  "coupon:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      const credit = await call("POST", `/v1/members/${member.id}/adjustments`, {
        key: s.p.keys.admin,
        idempotencyKey: uniqueKey("adj"),
        body: { points: 10, reason: "setup" },
      });
      expect(credit.status).toBe(201);
      const redeemed = await call("POST", `/v1/members/${member.id}/rewards/${s.rewardId}/redeem`, {
        key: s.p.keys.storefront,
        idempotencyKey: uniqueKey("rdm"),
      });
      expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(201);
      const { code } = redeemed.body.coupon;
      const [{ id }] = await sql("SELECT id FROM coupons WHERE program_id = ? AND code = ?", [s.p.programId, code]);
      return {
        key: systemKeys.coupon(String(id)),
        run: async () => {
          const cancel = await call("POST", `/v1/coupons/${code}/cancel`, { key: s.p.keys.storefront });
          expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
          expect(cancel.body).toMatchObject({ pointsReturned: 1, coupon: { status: "cancelled" } });
          expect((await ledgerSum(member.id)).sum).toBe(10);
        },
      };
    },
  },
  "feedback:": {
    setup: (p) => addRule(p, { name: "Survey", trigger: { type: "survey" }, effect: { type: "fixed", points: 15 } }),
    prepare: async (s) => {
      const member = await newMember(s.p);
      const request = { key: s.p.keys.storefront, idempotencyKey: uniqueKey("fb"), body: { kind: "nps", score: 10 } };
      const first = await call("POST", `/v1/members/${member.id}/feedback`, request);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      return {
        key: systemKeys.feedback(first.body.id),
        // A retry of the feedback asks its earning again, under its system key: still answered.
        run: async () => {
          const again = await call("POST", `/v1/members/${member.id}/feedback`, request);
          expect(again.headers.get("idempotent-replayed")).toBe("true");
          expect(again.body.earning).toEqual({ pointsEarned: 15 });
          expect((await ledgerSum(member.id)).sum).toBe(15);
        },
      };
    },
  },
  "signup:": {
    setup: async (p) => {
      const rule = await call("POST", "/v1/rules", {
        key: p.keys.admin,
        body: { name: "Signup", trigger: { type: "signup" }, effect: { type: "fixed", points: 40 }, active: false },
      });
      expect(rule.status).toBe(201);
      return rule.body.id;
    },
    prepare: async (s, ruleId: string) => {
      // Registered while the program has no active signup rule; the retried registration awards it.
      const setActive = async (active: boolean) =>
        expect((await call("PATCH", `/v1/rules/${ruleId}`, { key: s.p.keys.admin, body: { active } })).status).toBe(200);
      await setActive(false);
      const externalId = uniqueKey("cust");
      const first = await call("POST", "/v1/members", { key: s.p.keys.storefront, body: { externalId } });
      expect(first.status).toBe(201);
      return {
        key: systemKeys.signup(first.body.id),
        run: async () => {
          await setActive(true);
          const again = await call("POST", "/v1/members", { key: s.p.keys.storefront, body: { externalId } });
          expect(again.status).toBe(200);
          expect(again.body.balance.total).toBe(40);
          expect((await ledgerSum(first.body.id)).sum).toBe(40);
        },
      };
    },
  },
  "birthday:": {
    setup: (p) => addRule(p, { name: "Birthday", trigger: { type: "birthday" }, effect: { type: "fixed", points: 60 } }),
    prepare: async (s) => {
      const member = await newMember(s.p);
      const year = String(2000 + Math.floor(Math.random() * 90));
      return {
        key: systemKeys.birthday(member.id, year),
        run: async () => {
          const award = await awardTrigger(testEnv, { programId: s.p.programId, memberId: member.id, kind: "birthday", year });
          expect(award).toMatchObject({ ok: true, replayed: false, body: { pointsEarned: 60 } });
        },
      };
    },
  },
  "tierGift:": {
    setup: async (p) => {
      const reward = await call("POST", "/v1/rewards", {
        key: p.keys.admin,
        body: { name: "Cake", kind: "free_product", productSku: "CAKE", pointsCost: 100 },
      });
      expect(reward.status).toBe(201);
      const tier = await call("POST", "/v1/tiers", {
        key: p.keys.admin,
        body: { name: "Everyone", rank: 0, qualification: { windowDays: 365 }, benefits: { birthdayGift: { rewardId: reward.body.id } } },
      });
      expect(tier.status).toBe(201);
      return tier.body.id as string;
    },
    prepare: async (s, tierId: string) => {
      const member = await newMember(s.p);
      const until = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
      const assigned = await call("POST", `/v1/members/${member.id}/tier`, {
        key: s.p.keys.admin,
        body: { tierId, until, reason: "test" },
      });
      expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
      const year = String(2000 + Math.floor(Math.random() * 90));
      return {
        key: systemKeys.tierGift(member.id, year),
        run: async () => {
          const gift = await issueTierBirthdayGift(testEnv, { programId: s.p.programId, memberId: member.id, year });
          expect(gift).toMatchObject({ ok: true, replayed: false, body: { occasion: `birthday:${year}` } });
        },
      };
    },
  },
  "anniversary:": {
    setup: (p) =>
      addRule(p, {
        name: "A year",
        trigger: { type: "milestone", milestone: { kind: "anniversary", years: 1 } },
        effect: { type: "fixed", points: 70 },
      }),
    prepare: async (s) => {
      const member = await newMember(s.p);
      await sql("UPDATE members SET created_at = ? WHERE id = ?", [new Date(Date.now() - 400 * 86_400_000).toISOString(), member.id]);
      const year = String(2000 + Math.floor(Math.random() * 90));
      return {
        key: systemKeys.anniversary(member.id, year),
        run: async () => {
          const award = await awardTrigger(testEnv, { programId: s.p.programId, memberId: member.id, kind: "anniversary", year });
          expect(award).toMatchObject({ ok: true, replayed: false, body: { pointsEarned: 70 } });
        },
      };
    },
  },
  "import:": {
    setup: async () => null,
    prepare: async (s) => {
      const orderId = uniqueKey("imp");
      return {
        key: systemKeys.import(orderId),
        run: async () => {
          const [program] = await db().select().from(programs).where(eq(programs.id, s.p.programId));
          const row = { externalId: uniqueKey("cust"), orderId, amount: 2000, currency: "USD", occurredAt: new Date().toISOString() };
          expect(await importTransactions(db(), program, [row])).toMatchObject({ imported: 1, pointsEarned: 20 });
          expect(
            await sql("SELECT request_key FROM ledger_entries WHERE source_id = ? AND program_id = ?", [orderId, s.p.programId]),
          ).toEqual([expect.objectContaining({ request_key: systemKeys.import(orderId) })]);
        },
      };
    },
  },
  "migration:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      return {
        key: systemKeys.migration(member.id),
        run: async () => {
          const res = await call("POST", "/v1/imports/balances", {
            key: s.p.keys.admin,
            body: { members: [{ memberId: member.id, lots: [{ points: 70, earnedAt: new Date(Date.now() - 86_400_000).toISOString() }] }] },
          });
          expect(res.body.results[0], JSON.stringify(res.body)).toMatchObject({ status: "imported", points: 70 });
          expect(await ledgerSum(member.id)).toMatchObject({ sum: 70, balance: 70 });
        },
      };
    },
  },
  "history:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      const order = {
        orderId: uniqueKey("hist"),
        amount: 2000,
        currency: "USD",
        occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
      };
      return {
        key: systemKeys.history(member.id, (await sha256Hex(`rules:${order.orderId}`)).slice(0, 32)),
        run: async () => {
          const res = await call("POST", "/v1/imports/transactions", {
            key: s.p.keys.admin,
            body: { award: "rules", members: [{ memberId: member.id, orders: [order] }] },
          });
          expect(res.body.results[0], JSON.stringify(res.body)).toMatchObject({ status: "imported", points: 20, imported: 1 });
          expect(await ledgerSum(member.id)).toMatchObject({ sum: 20, balance: 20 });
        },
      };
    },
  },
  "hold:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      await call("POST", `/v1/members/${member.id}/adjustments`, {
        key: s.p.keys.admin,
        idempotencyKey: uniqueKey("adj"),
        body: { points: 5, reason: "setup" },
      });
      const held = await call("POST", `/v1/members/${member.id}/redemptions`, {
        key: s.p.keys.storefront,
        idempotencyKey: uniqueKey("rdm"),
        body: { points: 5, reason: "held", capture: false, holdSeconds: 1 },
      });
      expect(held.status, JSON.stringify(held.body)).toBe(201);
      const id = held.body.redemption.id as string;
      return {
        key: systemKeys.hold(id),
        run: async () => {
          // The member's object expires the reserve by its alarm: the points come back.
          let status = "reserved";
          for (let i = 0; i < 60 && status === "reserved"; i++) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            status = (await call("GET", `/v1/redemptions/${id}`, { key: s.p.keys.storefront })).body.status;
          }
          expect(status).toBe("expired");
          expect(await ledgerSum(member.id)).toMatchObject({ sum: 5, balance: 5 });
        },
      };
    },
  },
  "merge:": {
    setup: async () => null,
    prepare: async (s) => {
      const [into, from] = [await newMember(s.p), await newMember(s.p)];
      const credited = await call("POST", `/v1/members/${from.id}/adjustments`, {
        key: s.p.keys.admin,
        idempotencyKey: uniqueKey("adj"),
        body: { points: 7, reason: "setup" },
      });
      expect(credited.status).toBe(201);
      return {
        key: systemKeys.merge(from.id, "out"),
        run: async () => {
          const merged = await call("POST", `/v1/members/${into.id}/merge`, {
            key: s.p.keys.admin,
            idempotencyKey: uniqueKey("mrg"),
            body: { from: from.id },
          });
          expect(merged.status, JSON.stringify(merged.body)).toBe(200);
          expect(await ledgerSum(into.id)).toMatchObject({ sum: 7, balance: 7 });
          expect(await ledgerSum(from.id)).toMatchObject({ sum: 0, balance: 0 });
        },
      };
    },
  },
  "expire:": {
    setup: async () => null,
    prepare: async (s) => {
      const member = await newMember(s.p);
      const bought = await call("POST", `/v1/members/${member.id}/accruals`, {
        key: s.p.keys.storefront,
        idempotencyKey: uniqueKey("acc"),
        body: { orderId: uniqueKey("o"), amount: 3000, currency: "USD" },
      });
      expect(bought.status).toBe(201);
      const [lot] = await sql("SELECT id FROM point_lots WHERE member_id = ?", [member.id]);
      return {
        key: systemKeys.expire(String(lot.id)),
        run: async () => {
          // The program's points expire after a day: sweep (this program only) two days on.
          await expireLots(db(), new Date(Date.now() + 2 * 86_400_000), 500, { programId: s.p.programId });
          expect(await sql("SELECT remaining FROM point_lots WHERE id = ?", [lot.id])).toEqual([expect.objectContaining({ remaining: 0 })]);
          expect(await ledgerSum(member.id)).toMatchObject({ sum: 0, balance: 0 });
          // The sweep took the client's points too: top them up for the next writes.
          const topUp = await call("POST", `/v1/members/${s.attacker.id}/adjustments`, {
            key: s.p.keys.admin,
            idempotencyKey: uniqueKey("top"),
            body: { points: 1000, reason: "top up" },
          });
          expect(topUp.status).toBe(201);
        },
      };
    },
  },
};

describe("idempotency keys: client and system namespaces", () => {
  let writeRoutes: Operation[] = [];
  const stages = new Map<string, Stage>();

  beforeAll(async () => {
    writeRoutes = (await operations()).filter((op) =>
      op.params.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key"),
    );
    for (const prefix of SYSTEM_KEY_PREFIXES) {
      const scenario = scenarios[prefix];
      if (!scenario) continue;
      // Only the expiry scenario's points expire (after a day; its sweep runs two days ahead).
      const p = await newProgram({ expiryDays: prefix === "expire:" ? 1 : null });
      stages.set(prefix, await stage(p, await scenario.setup(p)));
    }
  });

  it("every internal key prefix in the code has a scenario here, and every write route with an Idempotency-Key a client write", async () => {
    expect(SYSTEM_KEY_PREFIXES.length).toBeGreaterThanOrEqual(9);
    for (const prefix of SYSTEM_KEY_PREFIXES) expect(scenarios[prefix], `no scenario for the system key prefix ${prefix}`).toBeDefined();
    for (const prefix of SYSTEM_KEY_PREFIXES)
      for (const [kind, build] of Object.entries(systemKeys))
        if (`${kind}:` === prefix) expect((build as (...a: string[]) => string)("a", "b", "c").startsWith(prefix)).toBe(true);
    expect(writeRoutes.map((op) => `${op.method} ${op.path}`).sort()).toEqual(
      [
        "POST /v1/members/{memberId}/accruals",
        "POST /v1/members/{memberId}/activities",
        "POST /v1/members/{memberId}/adjustments",
        "POST /v1/members/{memberId}/feedback",
        "POST /v1/members/{memberId}/merge",
        "POST /v1/members/{memberId}/redemptions",
        "POST /v1/members/{memberId}/rewards/{rewardId}/redeem",
        "POST /v1/orders/{orderId}/refunds",
        "POST /v1/redemptions/{redemptionId}/capture",
        "POST /v1/redemptions/{redemptionId}/void",
        "POST /v1/redemptions/{redemptionId}/reverse",
      ].sort(),
    );
  });

  it("a client key equal to any system key, sent to any write route, never blocks the system operation", { timeout: 900_000 }, async () => {
    const pairs = SYSTEM_KEY_PREFIXES.flatMap((prefix) => writeRoutes.map((op) => [op, prefix, true] as [Operation, string, boolean]));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writeRoutes),
        fc.constantFrom(...SYSTEM_KEY_PREFIXES),
        fc.boolean(),
        async (op, prefix, exact) => {
          const s = stages.get(prefix)!;
          const instance = await scenarios[prefix].prepare(s, s.extra);
          // The exact key the system will use, or the prefix with something else after it.
          const key = exact ? instance.key : `${prefix}${uniqueKey("x")}`;
          const poison = await clientWrite(op, s, key);
          expect(poison.status, `${op.path} with key ${key}: ${JSON.stringify(poison.body)}`).toBeLessThan(300);
          // The client's key is the client's: a retry replays it.
          const retry = await clientWrite(op, s, key);
          expect(retry.status).toBeLessThan(500);
          await instance.run();
        },
      ),
      // Every (route, prefix) pair with the exact system key first, then random ones.
      { examples: pairs, numRuns: pairs.length + 10 },
    );
  });

  it("client keys are stored in the client namespace; system keys in the system one", async () => {
    const s = stages.get("partner:")!;
    const key = systemKeys.partner(uniqueKey("evt"));
    expect((await clientWrite(writeRoutes.find((op) => op.path.endsWith("/accruals"))!, s, key)).status).toBe(201);
    expect(await sql("SELECT origin FROM ledger_requests WHERE program_id = ? AND idempotency_key = ?", [s.p.programId, key])).toEqual([
      expect.objectContaining({ origin: "client" }),
    ]);
    const eventId = key.slice("partner:".length);
    const res = await postPartnerEvent(s.p, { eventId, type: "activity", memberId: s.attacker.id, kind: "store_checkin" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(
      (
        await sql("SELECT origin FROM ledger_requests WHERE program_id = ? AND idempotency_key = ? ORDER BY origin", [s.p.programId, key])
      ).map((r) => r.origin),
    ).toEqual(["client", "system"]);
  });

  it("a client reward redemption under a campaign-looking key is not counted as campaign spend", async () => {
    const p = await newProgram();
    const s = await stage(p);
    const period = new Date().toISOString().slice(0, 7);
    const redeemed = await call("POST", `/v1/members/${s.attacker.id}/rewards/${s.rewardId}/redeem`, {
      key: p.keys.storefront,
      idempotencyKey: `campaign:${uniqueKey("cmp")}:${s.attacker.id}:x`,
    });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(201);
    const budget = await call("PUT", `/v1/budgets/${period}`, { key: p.keys.admin, body: { amountMinor: 10_000 } });
    expect(budget.status, JSON.stringify(budget.body)).toBeLessThan(300);
    expect(budget.body.campaignSpentMinor).toBe(0);
  });
});
