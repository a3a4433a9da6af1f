import { describe, expect, it } from "vitest";
import { API_CHANGELOG, LATEST_API_VERSION } from "../../src/lib/api-version";
import { dispatchOutbox } from "../../src/services/webhooks/delivery";
import { accrue, call, db, newMember, newProgram, testEnv } from "./helpers";

const OLD = "2026-06-01";
const NEW = "2026-12-01";

describe("API versions (Loyalty-Version)", () => {
  it("an old-version client keeps the old shape after the breaking change; a new one gets the new; each answer names its version", async () => {
    expect(LATEST_API_VERSION).toBe(NEW);
    const p = await newProgram({ holdDays: 3 });
    const m = await newMember(p);
    expect((await accrue(p, m.id, 5000)).status).toBe(201);
    const path = `/v1/members/${m.id}/balance`;

    // A key made now is on the latest version: the new field name.
    const latest = await call("GET", path, { key: p.keys.storefront });
    expect(latest.status).toBe(200);
    expect(latest.headers.get("loyalty-version")).toBe(NEW);
    expect(latest.body.nextReleaseAt).toEqual(expect.any(String));
    expect(latest.body).not.toHaveProperty("nextRelease");

    // The same key pinned to the old version by header: the old name, same value.
    const pinned = await call("GET", path, { key: p.keys.storefront, headers: { "loyalty-version": OLD } });
    expect(pinned.headers.get("loyalty-version")).toBe(OLD);
    expect(pinned.body.nextRelease).toBe(latest.body.nextReleaseAt);
    expect(pinned.body).not.toHaveProperty("nextReleaseAt");
    const { nextRelease: _old, ...restOld } = pinned.body;
    const { nextReleaseAt: _new, ...restNew } = latest.body;
    expect(restOld).toEqual(restNew);

    // A key created on the old version (as every key from before versioning is) gets the old
    // shape without any header, and the new one when it asks.
    const oldKey = await call("POST", "/v1/keys", {
      key: p.keys.admin,
      body: { name: "legacy POS", scope: "storefront", apiVersion: OLD },
    });
    expect(oldKey.status).toBe(201);
    expect(oldKey.body.apiVersion).toBe(OLD);
    const legacy = await call("GET", path, { key: oldKey.body.secret });
    expect(legacy.headers.get("loyalty-version")).toBe(OLD);
    expect(legacy.body).toHaveProperty("nextRelease");
    expect(legacy.body).not.toHaveProperty("nextReleaseAt");
    const upgraded = await call("GET", path, { key: oldKey.body.secret, headers: { "loyalty-version": NEW } });
    expect(upgraded.headers.get("loyalty-version")).toBe(NEW);
    expect(upgraded.body).toHaveProperty("nextReleaseAt");
    const keys = await call("GET", "/v1/keys", { key: p.keys.admin });
    expect(Object.fromEntries(keys.body.data.map((k: { name: string; apiVersion: string }) => [k.name, k.apiVersion]))).toMatchObject({
      "legacy POS": OLD,
      "default storefront": NEW,
    });

    // Keys stored before versioning existed read as the first version (the column's default).
    await db().$client.execute({
      sql: "INSERT INTO api_keys (id, program_id, scope, name, prefix, key_hash, created_at) VALUES (?, ?, 'storefront', 'pre-versioning', 'le_store_x', ?, ?)",
      args: [`key_pre_${m.id}`, p.programId, `hash-${m.id}`, new Date().toISOString()],
    });
    const stored = await db().$client.execute({ sql: "SELECT api_version FROM api_keys WHERE id = ?", args: [`key_pre_${m.id}`] });
    expect(stored.rows[0].api_version).toBe(OLD);
  });

  it("an unknown version is a clear 400 before anything runs; errors and public routes name their version too", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    for (const asked of ["2025-01-01", "latest", "2026-12-1"]) {
      const res = await call("POST", `/v1/members/${m.id}/accruals`, {
        key: p.keys.storefront,
        idempotencyKey: `v-${asked}-${m.id}`,
        headers: { "loyalty-version": asked },
        body: { orderId: `o-${asked}`, amount: 1000, currency: "USD" },
      });
      expect(res.status, asked).toBe(400);
      expect(res.body.error.code).toBe("unknown_api_version");
      expect(res.body.error.message).toContain(OLD);
      expect(res.body.error.message).toContain(NEW);
    }
    // Nothing was written.
    expect((await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.storefront })).body.total).toBe(0);
    const missing = await call("GET", "/v1/members/mem_nope/balance", { key: p.keys.storefront, headers: { "loyalty-version": OLD } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("loyalty-version")).toBe(OLD);
    expect((await call("GET", "/v1/health")).headers.get("loyalty-version")).toBe(NEW);
  });

  it("webhook payloads carry the version of their subscription", async () => {
    const p = await newProgram();
    const hook = (version?: string) =>
      call("POST", "/v1/webhooks", {
        key: p.keys.admin,
        headers: version ? { "loyalty-version": version } : {},
        body: { url: `https://hooks.example.com/${version ?? "default"}`, eventTypes: ["points.earned"] },
      });
    const oldHook = await hook(OLD);
    const newHook = await hook();
    expect(oldHook.body.apiVersion).toBe(OLD);
    expect(newHook.body.apiVersion).toBe(NEW);
    const m = await newMember(p);
    expect((await accrue(p, m.id, 2000)).status).toBe(201);
    await dispatchOutbox(testEnv, new Date(), 500);
    const rows = await db().$client.execute({
      sql: "SELECT webhook_id, payload FROM webhook_deliveries WHERE program_id = ? AND event_type = 'points.earned'",
      args: [p.programId],
    });
    const versions = Object.fromEntries(rows.rows.map((r) => [String(r.webhook_id), JSON.parse(String(r.payload)).apiVersion]));
    expect(versions).toEqual({ [oldHook.body.id]: OLD, [newHook.body.id]: NEW });

    // The old subscription moves to the new version: later events carry it; delivered ones keep theirs.
    const moved = await call("PATCH", `/v1/webhooks/${oldHook.body.id}`, { key: p.keys.admin, body: { apiVersion: NEW } });
    expect(moved.status).toBe(200);
    expect(moved.body.apiVersion).toBe(NEW);
    expect((await call("PATCH", `/v1/webhooks/${oldHook.body.id}`, { key: p.keys.admin, body: { apiVersion: "2020-01-01" } })).status).toBe(
      400,
    );
    expect((await accrue(p, m.id, 2000)).status).toBe(201);
    await dispatchOutbox(testEnv, new Date(), 500);
    const later = await db().$client.execute({
      sql: "SELECT json_extract(payload, '$.apiVersion') AS v FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at, id",
      args: [oldHook.body.id],
    });
    expect(later.rows.map((r) => r.v)).toEqual([OLD, NEW]);
  });

  it("the changelog is published in the OpenAPI document", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    expect(doc.info["x-api-versions"]).toEqual(JSON.parse(JSON.stringify(API_CHANGELOG)));
    expect(doc.info.description).toContain("Loyalty-Version");
    expect(doc.info.description).toContain("`nextReleaseAt`");
    const balance = doc.paths["/v1/members/{memberId}/balance"].get.responses["200"].content["application/json"].schema;
    const schema = balance.$ref ? doc.components.schemas[balance.$ref.split("/").pop()] : balance;
    expect(Object.keys(schema.properties)).toContain("nextReleaseAt");
  });
});
