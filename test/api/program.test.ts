import { describe, expect, it } from "vitest";
import { accrue, call, db, newMember, newProgram, type TestProgram } from "./helpers";
import { operations, request, unlimited } from "./route-probes";

const settingsOf = async (p: TestProgram) => {
  const res = await call("GET", "/v1/program", { key: p.keys.admin });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const patch = (p: TestProgram, body: unknown, key = p.keys.admin) => call("PATCH", "/v1/program", { key, body });
const versionOf = async (programId: string) =>
  Number((await db().$client.execute({ sql: "SELECT config_version AS v FROM programs WHERE id = ?", args: [programId] })).rows[0].v);

describe("program settings", () => {
  it("reads the settings with their defaults, changes only what is sent, audits the change, bumps the config version", async () => {
    const p = await newProgram({ name: "Coffee club" });
    const before = await settingsOf(p);
    expect(before).toMatchObject({
      id: p.programId,
      name: "Coffee club",
      currency: "USD",
      basePointsPerUnit: 1,
      unitMinor: 100,
      holdDays: 0,
      expiryPolicy: { kind: "afterEarning", days: 365 },
      allowNegativeBalance: false,
      timeZone: "UTC",
      allowedOrigins: [],
      defaultLocale: "en-US",
      configVersion: 1,
    });
    expect(before).not.toHaveProperty("settings");

    const res = await patch(p, {
      timeZone: "Asia/Taipei",
      defaultLocale: "zh-tw",
      allowedOrigins: ["https://shop.example.com", "http://localhost:5173"],
      holdDays: 14,
      expiryPolicy: { kind: "never" },
      allowNegativeBalance: true,
      name: "Coffee club",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      timeZone: "Asia/Taipei",
      defaultLocale: "zh-TW",
      allowedOrigins: ["https://shop.example.com", "http://localhost:5173"],
      holdDays: 14,
      expiryPolicy: { kind: "never" },
      allowNegativeBalance: true,
      name: "Coffee club",
      basePointsPerUnit: 1,
      configVersion: 2,
    });
    expect(await settingsOf(p)).toEqual(res.body);

    const audit = await call("GET", `/v1/audit?entityType=program&entityId=${p.programId}`, { key: p.keys.admin });
    const updated = audit.body.data.filter((a: { action: string }) => a.action === "program.updated");
    expect(updated).toHaveLength(1);
    // Only the fields that changed (the name did not), before and after.
    expect(updated[0].before).toEqual({
      timeZone: "UTC",
      defaultLocale: "en-US",
      allowedOrigins: [],
      holdDays: 0,
      expiryPolicy: { kind: "afterEarning", days: 365 },
      allowNegativeBalance: false,
    });
    expect(updated[0].after).toMatchObject({ timeZone: "Asia/Taipei", holdDays: 14, expiryPolicy: { kind: "never" } });

    // A patch that changes nothing writes nothing.
    const same = await patch(p, { timeZone: "Asia/Taipei" });
    expect(same.body.configVersion).toBe(2);
  });

  it("validates every field: IANA zones (checked with Intl), origins, locales, the policy, no unknown or empty patch", async () => {
    const p = await newProgram();
    for (const body of [
      { timeZone: "Mars/Olympus_Mons" },
      { timeZone: "GMT+25" },
      { allowedOrigins: ["https://shop.example.com/path"] },
      { allowedOrigins: ["javascript:alert(1)"] },
      { allowedOrigins: ["*"] },
      { defaultLocale: "not a locale!" },
      { expiryPolicy: { kind: "afterEarning", days: 0 } },
      { expiryPolicy: { kind: "endOfYear" } },
      { currency: "usd" },
      { holdDays: -1 },
      { unitMinor: 0 },
      { configVersion: 99 },
      { settings: { partnerSigningSecret: "mine" } },
      {},
    ]) {
      const res = await patch(p, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(await settingsOf(p)).toMatchObject({ timeZone: "UTC", configVersion: 1 });
  });

  it("fixes the currency once the program has members (409 currency_locked)", async () => {
    const p = await newProgram();
    const early = await patch(p, { currency: "TWD" });
    expect(early.status, JSON.stringify(early.body)).toBe(200);
    expect(early.body.currency).toBe("TWD");
    await newMember(p);
    const late = await patch(p, { currency: "EUR", name: "Renamed" });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("currency_locked");
    expect(late.body.error.message).toMatch(/TWD.*members/);
    // Nothing of the refused patch was applied.
    expect(await settingsOf(p)).toMatchObject({ currency: "TWD", name: "Test program", configVersion: 2 });
    // Sending the current currency is not a change.
    expect((await patch(p, { currency: "TWD", name: "Renamed" })).status).toBe(200);
  });

  it("takes effect for later writes only: past entries and lots keep the rate and expiry they were made with", async () => {
    const p = await newProgram({ currency: "USD" });
    const m = await newMember(p);
    const first = await accrue(p, m.id, 10_000);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const lotsBefore = await db().$client.execute({
      sql: "SELECT id, points, expires_at FROM point_lots WHERE member_id = ?",
      args: [m.id],
    });
    expect((await patch(p, { basePointsPerUnit: 5, expiryPolicy: { kind: "afterEarning", days: 30 } })).status).toBe(200);
    const second = await accrue(p, m.id, 10_000);
    expect(second.status).toBe(201);
    const entries = (await call("GET", `/v1/members/${m.id}/ledger`, { key: p.keys.admin })).body.data as Array<{ points: number }>;
    expect(entries.map((e) => e.points).sort((a, b) => a - b)).toEqual([100, 500]);
    const lots = await db().$client.execute({
      sql: "SELECT id, points, expires_at, created_at FROM point_lots WHERE member_id = ? ORDER BY points",
      args: [m.id],
    });
    expect(lots.rows[0].expires_at).toBe(lotsBefore.rows[0].expires_at);
    const days = (row: (typeof lots.rows)[number]) =>
      (Date.parse(String(row.expires_at)) - Date.parse(String(row.created_at))) / 86_400_000;
    expect(Math.round(days(lots.rows[0]))).toBe(365);
    expect(Math.round(days(lots.rows[1]))).toBe(30);
  });

  it("writes member-facing money in the program's default locale", async () => {
    const p = await newProgram({ currency: "EUR" });
    expect((await patch(p, { defaultLocale: "de-DE" })).status).toBe(200);
    for (const t of [
      { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
      { name: "Silber", rank: 1, qualification: { windowDays: 365, minSpend: 123_450 } },
    ])
      expect((await call("POST", "/v1/tiers", { key: p.keys.admin, body: t })).status).toBe(201);
    const m = await newMember(p);
    const tier = await call("GET", `/v1/members/${m.id}/tier`, { key: p.keys.storefront });
    expect(tier.body.message).toContain("1.234,50");
  });

  it("is admin-only and per program: storefront and partner keys get 403, another program's admin sees only its own", async () => {
    const a = await newProgram({ name: "A" });
    const b = await newProgram({ name: "B" });
    for (const key of [b.keys.storefront, b.keys.partner]) {
      expect((await call("GET", "/v1/program", { key })).status).toBe(403);
      const res = await patch(b, { timeZone: "Asia/Taipei" }, key);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect((await call("GET", "/v1/program")).status).toBe(401);
    expect((await settingsOf(a)).id).toBe(a.programId);
    await patch(a, { name: "A renamed", timeZone: "Europe/Paris" });
    expect(await settingsOf(b)).toMatchObject({ name: "B", timeZone: "UTC", configVersion: 1 });
  });
});

/** Every admin write, sorted: configuration (bumps the version) or not. A new route must be added to one. */
const CONFIG_WRITES = [
  // First, while the program is empty: the document below changes only the name.
  "PUT /v1/program/config",
  "PATCH /v1/program",
  "POST /v1/rules",
  "PATCH /v1/rules/{ruleId}",
  "POST /v1/tiers",
  "PATCH /v1/tiers/{tierId}",
  "POST /v1/rewards",
  "PATCH /v1/rewards/{rewardId}",
  "PUT /v1/referral-program",
  "POST /v1/segments",
  "PATCH /v1/segments/{segmentId}",
  "POST /v1/campaigns",
  "PATCH /v1/campaigns/{campaignId}",
  "PUT /v1/channels/{channel}",
  "PUT /v1/lifecycle-settings",
  "PUT /v1/budgets/{period}",
  "POST /v1/experiments/{experimentId}/stop",
  "POST /v1/journey-templates/{key}/campaigns",
  "PUT /v1/contact-policy",
  "DELETE /v1/channels/{channel}",
  "DELETE /v1/campaigns/{campaignId}",
  "DELETE /v1/segments/{segmentId}",
  "DELETE /v1/rewards/{rewardId}",
  "DELETE /v1/tiers/{tierId}",
  "DELETE /v1/rules/{ruleId}",
];
/** Admin writes of data, state or credentials, not configuration. */
const OTHER_WRITES = [
  "POST /v1/segments/{segmentId}/recompute",
  "PUT /v1/acquisition-spend/{channel}/{period}",
  "POST /v1/analytics/recompute",
  "POST /v1/keys",
  "DELETE /v1/keys/{keyId}",
  "POST /v1/webhooks",
  "PATCH /v1/webhooks/{webhookId}",
  "DELETE /v1/webhooks/{webhookId}",
  "POST /v1/webhooks/{webhookId}/rotate-secret",
  "POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
  "POST /v1/partner/signing-secret/rotate",
  "POST /v1/widget/secret/rotate",
  "POST /v1/member-tokens/signing-key/rotate",
  "POST /v1/members/{memberId}/adjustments",
  "POST /v1/members/{memberId}/erase",
  "POST /v1/members/{memberId}/merge",
  "POST /v1/members/{memberId}/tags",
  "POST /v1/members/{memberId}/tier",
  "POST /v1/channels/{channel}/events",
  "POST /v1/imports/members",
  "POST /v1/imports/balances",
  "POST /v1/imports/transactions",
];

describe("configuration version", () => {
  it("every configuration write bumps it by one in the same batch, and no other write does", async () => {
    const ops = await operations();
    const adminOnlyWrites = ops.filter((o) => o.method !== "GET" && o.scopes?.length === 1 && o.scopes[0] === "admin");
    const unsorted = adminOnlyWrites
      .map((o) => `${o.method} ${o.path}`)
      .filter((k) => !CONFIG_WRITES.includes(k) && !OTHER_WRITES.includes(k));
    expect(unsorted, "sort each admin write into CONFIG_WRITES or OTHER_WRITES").toEqual([]);

    const p = await newProgram();
    await unlimited(p);
    const member = await newMember(p);
    const ids: Record<string, string> = { period: "2026-12", channel: "email" };
    const first = async (sql: string) => {
      const r = await db().$client.execute({ sql, args: [p.programId] });
      return r.rows[0] ? String(Object.values(r.rows[0])[0]) : undefined;
    };
    const tierExample = ops.find((o) => o.method === "POST" && o.path === "/v1/tiers")?.body as Record<string, unknown>;
    const exported = (await call("GET", "/v1/program/config", { key: p.keys.admin })).body;
    const overrides: Record<string, unknown> = {
      "/v1/program/config": { ...exported, settings: { ...exported.settings, name: "Applied" } },
      "/v1/tiers": { ...tierExample, name: "Entry", rank: 0 },
      "/v1/campaigns": {
        name: "Welcome test",
        trigger: { type: "welcome" },
        actions: [{ type: "award_points", points: 10 }],
        experiment: {
          variants: [
            { key: "small", weight: 1 },
            { key: "big", weight: 1, actions: [{ type: "award_points", points: 50 }] },
          ],
          holdoutPct: 30,
          conversion: { type: "purchase", windowDays: 30 },
          minimumDetectableEffect: 0.3,
          maxDurationDays: 30,
        },
      },
      "/v1/channels/{channel}": { url: "http://receiver.test/__test/receiver/channel" },
      "/v1/campaigns/{campaignId}": { name: "Renamed" },
    };
    for (const key of CONFIG_WRITES) {
      const [method, path] = key.split(" ");
      const op = ops.find((o) => o.method === method && o.path === path);
      expect(op, key).toBeDefined();
      if (!op) continue;
      ids.ruleId ??= (await first("SELECT id FROM earning_rules WHERE program_id = ? LIMIT 1")) as string;
      ids.tierId ??= (await first("SELECT id FROM tiers WHERE program_id = ? LIMIT 1")) as string;
      ids.rewardId ??= (await first("SELECT id FROM rewards WHERE program_id = ? LIMIT 1")) as string;
      ids.segmentId ??= (await first("SELECT id FROM segments WHERE program_id = ? LIMIT 1")) as string;
      ids.campaignId ??= (await first("SELECT id FROM campaigns WHERE program_id = ? LIMIT 1")) as string;
      ids.experimentId ??= (await first("SELECT id FROM experiments WHERE program_id = ? LIMIT 1")) as string;
      const before = await versionOf(p.programId);
      const res = await request(op, ids, p.keys.admin, overrides[path] ? { [path]: overrides[path] } : {});
      expect(res.status, `${key}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      expect(await versionOf(p.programId), key).toBe(before + 1);
    }
    expect((await settingsOf(p)).configVersion).toBe(1 + CONFIG_WRITES.length);

    // Writes of data and state leave it alone.
    const before = await versionOf(p.programId);
    expect((await accrue(p, member.id, 5_000)).status).toBe(201);
    await call("POST", `/v1/members/${member.id}/tags`, { key: p.keys.admin, body: { add: ["vip"] } });
    await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: "extra", scope: "storefront" } });
    const imported = await call("POST", "/v1/imports/balances", {
      key: p.keys.admin,
      body: { members: [{ memberId: member.id, lots: [{ points: 10, earnedAt: "2026-01-01T00:00:00Z" }] }] },
    });
    expect(imported.body.results[0].status).toBe("imported");
    expect(await versionOf(p.programId)).toBe(before);
  });
});
