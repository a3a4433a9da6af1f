import { describe, expect, it } from "vitest";
import { accrue, call, db, ledgerSum, newMember, newProgram, uniqueKey } from "./helpers";

describe("members", () => {
  it("registers idempotently on externalId and looks up by id and externalId", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("cust");
    const first = await call("POST", "/v1/members", {
      key: p.keys.storefront,
      body: { externalId, email: "ana@example.com", name: "Ana", birthday: "1990-04-12", consent: { email: true }, tags: ["new"] },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      externalId,
      email: "ana@example.com",
      consent: { email: true, sms: false },
      tags: ["new"],
      balance: { available: 0, pending: 0, total: 0 },
    });
    const again = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId, name: "Someone else" } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.name).toBe("Ana");

    const byId = await call("GET", `/v1/members/${first.body.id}`, { key: p.keys.storefront });
    expect(byId.status).toBe(200);
    expect(byId.body.id).toBe(first.body.id);
    const byExternal = await call("GET", `/v1/members?externalId=${encodeURIComponent(externalId)}`, { key: p.keys.storefront });
    expect(byExternal.body.id).toBe(first.body.id);
    // A partner key finds only the members its partner touched (test/api/security/partner-scoping.test.ts).
    expect((await call("GET", `/v1/members?externalId=${encodeURIComponent(externalId)}`, { key: p.keys.partner })).status).toBe(404);
  });

  it("serves lookups from the member's Durable Object: own writes and admin edits at once, other changes within the max age", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const lookup = (headers?: Record<string, string>) => call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront, headers });
    expect((await lookup()).body.balance.total).toBe(0);

    // The member's own ledger write goes through the same object: the next lookup shows it.
    expect((await accrue(p, m.id, 5_000)).status).toBe(201);
    const afterAccrual = await lookup();
    expect(afterAccrual.body.balance.total).toBeGreaterThan(0);
    expect(afterAccrual.headers.get("cache-control")).toBe("private, no-store");

    // An admin edit (through the API) invalidates the view too.
    await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { name: "Renamed" } });
    expect((await lookup()).body.name).toBe("Renamed");

    // A change made outside the ledger and the API (as a cron sweep does) shows within the max
    // age; Cache-Control: no-cache reads the database now.
    await db().$client.execute({ sql: "UPDATE members SET stage = 'dormant' WHERE id = ?", args: [m.id] });
    const cached = await lookup();
    expect(cached.body.analytics.stage).not.toBe("dormant");
    expect(Number(cached.headers.get("age"))).toBeGreaterThanOrEqual(0);
    const fresh = await lookup({ "cache-control": "no-cache" });
    expect(fresh.body.analytics.stage).toBe("dormant");
    expect(fresh.headers.get("age")).toBe("0");
    expect((await lookup()).body.analytics.stage).toBe("dormant");

    // Admin keys (dashboard, support) always read the database.
    await db().$client.execute({ sql: "UPDATE members SET stage = 'at_risk' WHERE id = ?", args: [m.id] });
    expect((await lookup()).body.analytics.stage).toBe("dormant");
    const asAdmin = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin });
    expect(asAdmin.body.analytics.stage).toBe("at_risk");
    expect(asAdmin.headers.get("age")).toBe("0");
  });

  it("concurrent registrations of one externalId create one member", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("race");
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId } })),
    );
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.status === 201).length).toBe(1);
  });

  it("patches profile, merges attributes and consent, and changes tags", async () => {
    const p = await newProgram();
    const m = await newMember(p, { attributes: { size: "M", city: "Lisbon" } });
    const patched = await call("PATCH", `/v1/members/${m.id}`, {
      key: p.keys.storefront,
      body: { name: "Bea", attributes: { city: null, shoe: 40 }, consent: { sms: true } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: "Bea", attributes: { size: "M", shoe: 40 }, consent: { sms: true, email: false } });
    expect(patched.body.attributes.city).toBeUndefined();
    const blocked = await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.storefront, body: { status: "blocked" } });
    expect(blocked.status).toBe(403);
    const tags = await call("POST", `/v1/members/${m.id}/tags`, {
      key: p.keys.storefront,
      body: { add: ["vip", "vip", "fan"], remove: [] },
    });
    expect(tags.body.tags.sort()).toEqual(["fan", "vip"]);
    const removed = await call("POST", `/v1/members/${m.id}/tags`, { key: p.keys.admin, body: { remove: ["vip"] } });
    expect(removed.body.tags).toEqual(["fan"]);
  });

  it("erases personal data but keeps the ledger balanced", async () => {
    const p = await newProgram();
    const m = await newMember(p, { email: "x@example.com", name: "X", phone: "+351 912 345 678" });
    await accrue(p, m.id, 5000);
    expect((await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.storefront })).status).toBe(403);
    const erased = await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.admin });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ status: "erased", email: null, name: null, phone: null, attributes: {}, tags: [] });
    expect(erased.body.externalId).not.toBe(m.externalId);
    const sums = await ledgerSum(m.id);
    expect(sums.sum).toBe(50);
    expect(sums.balance).toBe(50);
    const lookup = await call("GET", `/v1/members?externalId=${m.externalId}`, { key: p.keys.storefront });
    expect(lookup.status).toBe(404);
  });

  it("keeps programs isolated: another program's member is a 404", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const m = await newMember(a);
    expect((await call("GET", `/v1/members/${m.id}`, { key: b.keys.admin })).status).toBe(404);
    expect((await call("PATCH", `/v1/members/${m.id}`, { key: b.keys.admin, body: { name: "hijack" } })).status).toBe(404);
    const res = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: b.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { orderId: "o1", amount: 100, currency: "USD" },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("rejects missing, bad and wrong-scope keys with the error body", async () => {
    const p = await newProgram();
    const none = await call("GET", "/v1/members?externalId=x");
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: "unauthorized" });
    expect(none.body.error.requestId).toBeTruthy();
    expect((await call("GET", "/v1/members?externalId=x", { key: "le_admin_nope" })).status).toBe(401);
    const scope = await call("POST", "/v1/members", { key: p.keys.partner, body: { externalId: "x" } });
    expect(scope.status).toBe(403);
    expect(scope.body.error.code).toBe("forbidden");
  });

  it("answers bad input with 400 invalid_request and the failing fields", async () => {
    const p = await newProgram();
    const bad = await call("POST", "/v1/members", {
      key: p.keys.storefront,
      body: { externalId: "", email: "not-an-email", birthday: "1990-13-45", extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    const paths = bad.body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["externalId", "email", "birthday"]));
    const malformed = await call("POST", "/v1/members", {
      key: p.keys.storefront,
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("invalid_request");
    const unknownRoute = await call("GET", "/v1/nothing-here", { key: p.keys.admin });
    expect(unknownRoute.status).toBe(404);
  });
});
