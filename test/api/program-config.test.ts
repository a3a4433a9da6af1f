import { describe, expect, it } from "vitest";
import { MAX_SEGMENTS_PER_PROGRAM } from "../../src/services/segments/segments";
import { call, db, newMember, newProgram, type TestProgram } from "./helpers";

const ok = async (p: Promise<{ status: number; body: any }>, status = 200) => {
  const res = await p;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
};
const exportOf = (p: TestProgram) => ok(call("GET", "/v1/program/config", { key: p.keys.admin }));
const apply = (p: TestProgram, doc: unknown, dryRun = false) =>
  call("PUT", `/v1/program/config${dryRun ? "?dryRun=true" : ""}`, { key: p.keys.admin, body: doc });
const versionOf = async (programId: string) =>
  Number((await db().$client.execute({ sql: "SELECT config_version AS v FROM programs WHERE id = ?", args: [programId] })).rows[0].v);
const withoutVersion = ({ configVersion: _v, ...doc }: Record<string, unknown>) => doc;

/** A program configured through the single-object routes, one of everything. */
async function configuredProgram() {
  const p = await newProgram({ name: "Source club" });
  const post = (path: string, body: unknown, method = "POST", status = 201) => ok(call(method, path, { key: p.keys.admin, body }), status);
  await ok(
    call("PATCH", "/v1/program", {
      key: p.keys.admin,
      body: {
        timeZone: "Asia/Taipei",
        holdDays: 7,
        allowedOrigins: ["https://shop.example.com"],
        expiryPolicy: { kind: "endOfPeriod", period: "quarter", periodsAfter: 4 },
      },
    }),
  );
  const silver = await post("/v1/tiers", { name: "Silver", rank: 0, qualification: { windowDays: 365 } });
  const gold = await post("/v1/tiers", {
    name: "Gold",
    rank: 1,
    qualification: { windowDays: 365, minSpend: 100_000 },
    benefits: { pointsMultiplier: 1.5 },
  });
  await post("/v1/rules", {
    name: "Weekend double",
    trigger: { type: "purchase" },
    conditions: { daysOfWeek: [0, 6] },
    effect: { type: "multiplier", factor: 2 },
  });
  const reward = await post("/v1/rewards", {
    name: "Free coffee",
    kind: "free_product",
    productSku: "COF-1",
    pointsCost: 500,
    inventory: 100,
    tierIds: [gold.id],
  });
  await post("/v1/referral-program", { referrerPoints: 500, refereePoints: 200, maxPerMonth: 5, minOrderAmount: 1000 }, "PUT", 200);
  const segment = await post("/v1/segments", { name: "Big spenders", rule: { field: "lifetimeSpend", op: "gte", value: 50_000 } });
  // Segments whose rules hold tier ids, nested and in lists.
  const goldMembers = await post("/v1/segments", {
    name: "Gold members",
    description: "On the top tier",
    rule: { field: "tierId", op: "eq", value: gold.id },
  });
  await post("/v1/segments", {
    name: "Tiered and active",
    rule: {
      and: [
        { field: "tierId", op: "in", value: [silver.id, gold.id] },
        { not: { field: "tierId", op: "neq", value: silver.id } },
        {
          or: [
            { field: "stage", op: "eq", value: "active" },
            { field: "tierId", op: "exists", value: true },
          ],
        },
      ],
    },
  });
  await post("/v1/rules", {
    name: "Gold spenders bonus",
    trigger: { type: "purchase" },
    conditions: { tierIds: [gold.id], segmentIds: [segment.id] },
    effect: { type: "fixed", points: 50 },
  });
  await post("/v1/campaigns", {
    name: "Gold welcome",
    status: "draft",
    trigger: { type: "tier_up", toTierIds: [gold.id] },
    audience: { segmentId: segment.id },
    actions: [{ type: "issue_reward", rewardId: reward.id }],
  });
  // A campaign with an experiment whose variant issues a reward of its own.
  await post("/v1/campaigns", {
    name: "Win back test",
    status: "draft",
    trigger: { type: "broadcast" },
    audience: { segmentId: goldMembers.id },
    actions: [{ type: "award_points", points: 100 }],
    experiment: {
      variants: [
        { key: "points", weight: 1 },
        { key: "coffee", weight: 1, actions: [{ type: "issue_reward", rewardId: reward.id }] },
      ],
      holdoutPct: 20,
      conversion: { type: "purchase", windowDays: 14 },
    },
  });
  await post("/v1/lifecycle-settings", { newDays: 14 }, "PUT", 200);
  await post("/v1/budgets/2026-12", { amountMinor: 500_000 }, "PUT", 201);
  await post("/v1/channels/email", { url: "http://receiver.test/__test/receiver/config-email" }, "PUT", 201);
  return { p, ids: [gold.id, silver.id, reward.id, segment.id, goldMembers.id] };
}

describe("config as code", () => {
  it("exports a program, applies it to a fresh one with no ids carried over, and exports the same document again", async () => {
    const { p, ids } = await configuredProgram();
    const doc = await exportOf(p);
    expect(doc).toMatchObject({ version: 1, settings: { timeZone: "Asia/Taipei", holdDays: 7 }, channels: [{ channel: "email" }] });
    expect(doc.tiers.map((t: { name: string }) => t.name)).toEqual(["Silver", "Gold"]);
    expect(doc.rewards[0].tiers).toEqual(["Gold"]);
    expect(doc.settings.expiryPolicy).toEqual({ kind: "endOfPeriod", period: "quarter", periodsAfter: 4 });
    expect(doc.campaigns[0]).toMatchObject({
      trigger: { toTierIds: ["Gold"] },
      audience: { segmentId: "Big spenders" },
      actions: [{ rewardId: "Free coffee" }],
    });
    // Tier ids in segment and earning rules, and an experiment with its variants' references, by name.
    const segmentNamed = (name: string) => doc.segments.find((s: { name: string }) => s.name === name);
    expect(segmentNamed("Gold members").rule).toEqual({ field: "tierId", op: "eq", value: "Gold" });
    expect(segmentNamed("Tiered and active").rule.and[0]).toEqual({ field: "tierId", op: "in", value: ["Silver", "Gold"] });
    expect(segmentNamed("Tiered and active").rule.and[1]).toEqual({ not: { field: "tierId", op: "neq", value: "Silver" } });
    expect(doc.rules.find((r: { name: string }) => r.name === "Gold spenders bonus").conditions).toEqual({
      tierIds: ["Gold"],
      segmentIds: ["Big spenders"],
    });
    expect(doc.campaigns[1]).toMatchObject({
      name: "Win back test",
      audience: { segmentId: "Gold members" },
      experiment: { holdoutPct: 20, variants: [{ key: "points" }, { key: "coffee", actions: [{ rewardId: "Free coffee" }] }] },
    });
    const text = JSON.stringify(doc);
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toMatch(/secret/i);

    const fresh = await newProgram({ name: "Fresh" });
    const before = await versionOf(fresh.programId);
    const plan = await ok(apply(fresh, doc));
    expect(plan.dryRun).toBe(false);
    expect(plan.changes).toEqual(
      expect.arrayContaining([
        { kind: "tier", key: "Gold", action: "create" },
        { kind: "campaign", key: "Gold welcome", action: "create" },
        { kind: "channel", key: "email", action: "create" },
      ]),
    );
    expect(await versionOf(fresh.programId)).toBe(before + 1);
    const again = await exportOf(fresh);
    expect(withoutVersion(again)).toEqual(withoutVersion(doc));

    // The references point at the fresh program's own objects.
    const campaigns = await ok(call("GET", "/v1/campaigns", { key: fresh.keys.admin }));
    const tiers = await ok(call("GET", "/v1/tiers", { key: fresh.keys.admin }));
    const freshGold = tiers.data.find((t: { name: string }) => t.name === "Gold").id;
    expect(ids).not.toContain(freshGold);
    const welcome = campaigns.data.find((c: { name: string }) => c.name === "Gold welcome");
    expect(welcome.trigger.toTierIds).toEqual([freshGold]);
    // The experiment runs in the fresh program, referring to its own reward.
    const test = campaigns.data.find((c: { name: string }) => c.name === "Win back test");
    const freshReward = (await ok(call("GET", "/v1/rewards", { key: fresh.keys.admin }))).data[0].id;
    expect(test.experiment).toMatchObject({ status: "running", holdoutPct: 20 });
    expect(test.experiment.variants[1].actions).toEqual([{ type: "issue_reward", rewardId: freshReward }]);
    const experiments = await ok(call("GET", "/v1/experiments", { key: fresh.keys.admin }));
    expect(experiments.data.map((e: { campaignId: string }) => e.campaignId)).toEqual([test.id]);
    const segments = await ok(call("GET", "/v1/segments", { key: fresh.keys.admin }));
    expect(segments.data.find((x: { name: string }) => x.name === "Gold members").rule).toEqual({
      field: "tierId",
      op: "eq",
      value: freshGold,
    });

    // Applying the same document twice changes nothing, and does not bump the version.
    const noop = await ok(apply(fresh, again));
    expect(noop.changes).toEqual([]);
    expect(await versionOf(fresh.programId)).toBe(before + 1);
    const audit = await db().$client.execute({
      sql: "SELECT COUNT(*) AS n FROM audit_log WHERE program_id = ? AND action LIKE 'config.%'",
      args: [fresh.programId],
    });
    expect(Number(audit.rows[0].n)).toBe(plan.changes.length);
  });

  it("plans updates and deletes by name; a dry run writes nothing", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const version = await versionOf(p.programId);
    const changed = {
      ...doc,
      tiers: doc.tiers.map((t: { name: string; rank: number }) => ({ ...t, rank: 1 - t.rank })),
      rules: [],
      budgets: [{ period: "2026-12", amountMinor: 1 }],
    };
    const dry = await ok(apply(p, changed, true));
    expect(dry.dryRun).toBe(true);
    expect(dry.changes).toEqual(
      expect.arrayContaining([
        { kind: "tier", key: "Gold", action: "update" },
        { kind: "tier", key: "Silver", action: "update" },
        { kind: "rule", key: "Weekend double", action: "delete" },
        { kind: "budget", key: "2026-12", action: "update" },
      ]),
    );
    expect(await versionOf(p.programId)).toBe(version);
    expect(withoutVersion(await exportOf(p))).toEqual(withoutVersion(doc));

    const applied = await ok(apply(p, changed));
    expect(applied.changes).toEqual(dry.changes);
    const after = await exportOf(p);
    expect(after.rules).toEqual([]);
    expect(after.tiers.map((t: { name: string; rank: number }) => [t.name, t.rank])).toEqual([
      ["Gold", 0],
      ["Silver", 1],
    ]);
    expect(after.configVersion).toBe(version + 1);
  });

  it("rejects a bad document with the path of the first bad field, and writes nothing", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const version = await versionOf(p.programId);
    const bad = await apply(p, { ...doc, tiers: [doc.tiers[0], { ...doc.tiers[1], qualification: { windowDays: -1 } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("tiers.1.qualification.windowDays");
    const badCampaign = await apply(p, {
      ...doc,
      campaigns: [{ ...doc.campaigns[0], actions: [{ type: "issue_reward", rewardId: "No such reward" }] }],
    });
    expect(badCampaign.status).toBe(400);
    expect(badCampaign.body.error.message).toContain("No such reward");
    expect((await apply(p, { ...doc, version: 2 })).status).toBe(400);
    expect(await versionOf(p.programId)).toBe(version);
  });

  it("refuses to delete a tier members are on (409), writing nothing", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const member = await newMember(p);
    const silver = (await ok(call("GET", "/v1/tiers", { key: p.keys.admin }))).data.find((t: { name: string }) => t.name === "Silver");
    await db().$client.execute({ sql: "UPDATE members SET tier_id = ? WHERE id = ?", args: [silver.id, member.id] });
    const version = await versionOf(p.programId);
    const res = await apply(p, { ...doc, tiers: [{ ...doc.tiers[1], rank: 0 }], rewards: [], campaigns: [] });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(await versionOf(p.programId)).toBe(version);
  });

  it("is admin-only: storefront and partner keys get 403 and change nothing", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const version = await versionOf(p.programId);
    for (const key of [p.keys.storefront, p.keys.partner]) {
      expect((await call("GET", "/v1/program/config", { key })).status).toBe(403);
      expect((await call("PUT", "/v1/program/config", { key, body: { ...doc, rules: [] } })).status).toBe(403);
      expect((await call("PUT", "/v1/program/config?dryRun=true", { key, body: doc })).status).toBe(403);
    }
    expect((await call("GET", "/v1/program/config")).status).toBe(401);
    expect(await versionOf(p.programId)).toBe(version);
  });
  it("an experiment changes through the document while it runs; removing it, or changing a stopped one, is refused", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const i = doc.campaigns.findIndex((c: { name: string }) => c.name === "Win back test");
    const withExperiment = (experiment: unknown) => ({
      ...doc,
      campaigns: doc.campaigns.map((c: Record<string, unknown>, j: number) => (j === i ? { ...c, experiment } : c)),
    });
    const changed = await ok(apply(p, withExperiment({ ...doc.campaigns[i].experiment, holdoutPct: 30 })));
    expect(changed.changes).toEqual([{ kind: "campaign", key: "Win back test", action: "update" }]);
    const [experiment] = (await ok(call("GET", "/v1/experiments", { key: p.keys.admin }))).data;
    expect(experiment).toMatchObject({ status: "running" });
    expect((await ok(call("GET", `/v1/experiments/${experiment.id}`, { key: p.keys.admin }))).holdoutPct).toBe(30);
    const current = await exportOf(p);

    const { experiment: _dropped, ...withoutExperiment } = current.campaigns[i];
    const removed = await apply(p, {
      ...current,
      campaigns: current.campaigns.map((c: unknown, j: number) => (j === i ? withoutExperiment : c)),
    });
    expect(removed.status).toBe(409);
    await ok(call("POST", `/v1/experiments/${experiment.id}/stop`, { key: p.keys.admin, body: {} }));
    const afterStop = await exportOf(p);
    // A stopped experiment's document still applies unchanged…
    expect((await ok(apply(p, afterStop))).changes).toEqual([]);
    // …but its definition can no longer change.
    const late = await apply(p, withExperiment({ ...afterStop.campaigns[i].experiment, holdoutPct: 40 }));
    expect(late.status).toBe(409);
    expect(late.body.error.message).toContain("stopped");
  });

  it("holds at most as many segments as a program may have (one cap for the document and the service)", async () => {
    const p = await newProgram();
    const doc = await exportOf(p);
    const segment = (n: number) => ({ name: `S${n}`, description: null, rule: { field: "orders", op: "gte", value: n } });
    const tooMany = await apply(p, { ...doc, segments: Array.from({ length: MAX_SEGMENTS_PER_PROGRAM + 1 }, (_, n) => segment(n)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain("segments");
    const atCap = await ok(apply(p, { ...doc, segments: Array.from({ length: MAX_SEGMENTS_PER_PROGRAM }, (_, n) => segment(n)) }));
    expect(atCap.changes).toHaveLength(MAX_SEGMENTS_PER_PROGRAM);
    // The service refuses the next one the same way.
    const next = await call("POST", "/v1/segments", { key: p.keys.admin, body: segment(MAX_SEGMENTS_PER_PROGRAM) });
    expect(next.status).toBe(409);
  });

  it("a tier named in a segment rule but missing from the document is a 400 naming the path", async () => {
    const { p } = await configuredProgram();
    const doc = await exportOf(p);
    const bad = await apply(p, {
      ...doc,
      segments: [...doc.segments, { name: "Platinum", description: null, rule: { field: "tierId", op: "eq", value: "Platinum" } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/segments\.\d+\.rule: no tier named "Platinum"/);
  });
});
