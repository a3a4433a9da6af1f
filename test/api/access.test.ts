import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { forgetRateLeases } from "../../src/middleware/rate-limit";
import { call, callDirect, countBy, db, newMember, newProgram, type TestProgram } from "./helpers";
import { operations, request, SCOPES, type Scope, unlimited } from "./route-probes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function auditOf(p: TestProgram, query = "") {
  const res = await call("GET", `/v1/audit?limit=100${query}`, { key: p.keys.admin });
  expect(res.status).toBe(200);
  return res.body.data as Array<{
    action: string;
    entityType: string;
    entityId: string | null;
    keyId: string | null;
    before: unknown;
    after: unknown;
    requestId: string;
  }>;
}

describe("API keys", () => {
  it("creates a scoped key (secret once, hashed at rest), lists prefixes only, revokes at once, audited", async () => {
    const p = await newProgram();
    const created = await call("POST", "/v1/keys", {
      key: p.keys.admin,
      body: { name: "POS", scope: "storefront", rateLimitPerMinute: 1200 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "POS", scope: "storefront", status: "active", rateLimitPerMinute: 1200, revokedAt: null });
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^le_store_/);
    expect(secret.startsWith(created.body.prefix)).toBe(true);

    // Stored as SHA-256 only: no column holds the secret.
    const row = await db().$client.execute({ sql: "SELECT * FROM api_keys WHERE id = ?", args: [created.body.id] });
    expect(row.rows[0].key_hash).toBe(await sha256Hex(secret));
    expect(JSON.stringify(row.rows[0])).not.toContain(secret);

    // Works for its scope only.
    expect((await call("GET", "/v1/members?externalId=nobody", { key: secret })).status).toBe(404);
    expect((await call("GET", "/v1/keys", { key: secret })).status).toBe(403);

    const list = await call("GET", "/v1/keys", { key: p.keys.admin });
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { scope: string }) => k.scope).sort()).toEqual(["admin", "partner", "storefront", "storefront"]);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(await sha256Hex(secret));
    expect(text).not.toMatch(/keyHash|key_hash/);

    const revoked = await call("DELETE", `/v1/keys/${created.body.id}`, { key: p.keys.admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: "revoked" });
    expect(revoked.body.revokedAt).toBeTruthy();
    const denied = await call("GET", "/v1/members?externalId=nobody", { key: secret });
    expect(denied.status).toBe(401);
    expect(denied.body.error.message).toMatch(/revoked/);
    // Revoking again is harmless; the list hides revoked keys unless asked.
    expect((await call("DELETE", `/v1/keys/${created.body.id}`, { key: p.keys.admin })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: p.keys.admin })).body.data).toHaveLength(3);
    expect((await call("GET", "/v1/keys?includeRevoked=true", { key: p.keys.admin })).body.data).toHaveLength(4);

    const adminKeyId = (
      await db().$client.execute({ sql: "SELECT id FROM api_keys WHERE key_hash = ?", args: [await sha256Hex(p.keys.admin)] })
    ).rows[0].id;
    const audit = await auditOf(p, `&entityType=api_key&entityId=${created.body.id}`);
    expect(audit.map((a) => a.action)).toEqual(["key.revoked", "key.created"]);
    expect(audit.every((a) => a.keyId === adminKeyId && a.requestId)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it("validates key input, refuses to revoke the last admin key, and keys expire", async () => {
    const p = await newProgram();
    for (const body of [
      { name: "x", scope: "root" },
      { name: "", scope: "admin" },
      { name: "x", scope: "admin", expiresAt: "2001-01-01T00:00:00Z" },
      { name: "x", scope: "admin", rateLimitPerMinute: 0 },
    ]) {
      const res = await call("POST", "/v1/keys", { key: p.keys.admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await call("POST", "/v1/keys", { key: p.keys.storefront, body: { name: "x", scope: "admin" } })).status).toBe(403);

    const keys = (await call("GET", "/v1/keys", { key: p.keys.admin })).body.data as Array<{ id: string; scope: string }>;
    const defaultAdmin = keys.find((k) => k.scope === "admin")!;
    const last = await call("DELETE", `/v1/keys/${defaultAdmin.id}`, { key: p.keys.admin });
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe("conflict");

    const second = await call("POST", "/v1/keys", {
      key: p.keys.admin,
      body: { name: "ops", scope: "admin", expiresAt: new Date(Date.now() + 3_000).toISOString() },
    });
    expect(second.status).toBe(201);
    // With another active admin key, the default one can go (revoked by the new key itself).
    expect((await call("DELETE", `/v1/keys/${defaultAdmin.id}`, { key: second.body.secret })).status).toBe(200);
    await sleep(3_200);
    const expired = await call("GET", "/v1/keys", { key: second.body.secret });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/expired/);
  });
});

describe("rate limits", () => {
  it("answers 429 rate_limited with Retry-After past a key's limit, per key, and recovers", async () => {
    const p = await newProgram();
    const limited = (
      await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: "tight", scope: "storefront", rateLimitPerMinute: 30 } })
    ).body.secret as string;
    let ok = 0;
    let blocked: Awaited<ReturnType<typeof call>> | null = null;
    for (let i = 0; i < 45 && !blocked; i++) {
      const res = await call("GET", "/v1/members?externalId=nobody", { key: limited });
      if (res.status === 429) blocked = res;
      else {
        ok++;
        expect(res.status).toBe(404);
        expect(res.headers.get("ratelimit-limit")).toBe("30");
        expect(Number(res.headers.get("ratelimit-remaining"))).toBeGreaterThanOrEqual(0);
        expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(0);
      }
    }
    expect(blocked).not.toBeNull();
    expect(ok).toBeGreaterThanOrEqual(30);
    expect(blocked!.body.error).toMatchObject({ code: "rate_limited" });
    expect(blocked!.body.error.requestId).toBeTruthy();
    const retryAfter = Number(blocked!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(blocked!.headers.get("ratelimit-remaining")).toBe("0");

    // Other keys of the same program are not affected.
    const other = await call("GET", "/v1/members?externalId=nobody", { key: p.keys.storefront });
    expect(other.status).toBe(404);
    expect(other.headers.get("ratelimit-limit")).toBe("600");

    await sleep(retryAfter * 1000 + 100);
    const recovered = await call("GET", "/v1/members?externalId=nobody", { key: limited });
    expect(recovered.status).toBe(404);
  });

  it("lets a burst on one key through up to its bucket, whatever the lease size, and 429s only past it", async () => {
    // Each isolate leases limit/50 tokens at a time; a burst larger than 50 must share lease
    // calls rather than take one lease per request (which would drain the bucket at any limit).
    const p = await newProgram();
    const keyWithLimit = async (rateLimitPerMinute: number) => {
      const secret = (
        await call("POST", "/v1/keys", {
          key: p.keys.admin,
          body: { name: `burst ${rateLimitPerMinute}`, scope: "storefront", rateLimitPerMinute },
        })
      ).body.secret as string;
      // One request first, so the burst measures the limiter rather than 200 cold key lookups;
      // then drop its lease, so the burst starts as on a fresh isolate: no local tokens.
      expect((await callDirect("GET", "/v1/members?externalId=nobody", { key: secret })).status).toBe(404);
      forgetRateLeases();
      return secret;
    };
    // callDirect: 200 calls through exports.default would be slow (see helpers.ts).
    const burst = (key: string, n: number) =>
      Promise.all(Array.from({ length: n }, () => callDirect("GET", "/v1/members?externalId=nobody", { key })));

    const tally = (results: Array<{ status: number }>) => countBy(results, (r) => r.status);

    expect(tally(await burst(await keyWithLimit(1_000_000), 200))).toEqual({ 404: 200 });

    // The warm-up's lease of 2 leaves 98 in the bucket: 98 pass (a lease of 2, then what the
    // waiters need); the rest are refused with the limit's message and Retry-After, never
    // "too many concurrent requests".
    const tight = await burst(await keyWithLimit(100), 200);
    const passed = tight.filter((r) => r.status === 404).length;
    expect(passed).toBeGreaterThanOrEqual(98);
    expect(passed).toBeLessThanOrEqual(100); // the bucket refills 100/min meanwhile
    const refused = tight.filter((r) => r.status !== 404);
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set([429]));
    for (const r of refused) {
      expect(r.body.error.message).toMatch(/^Rate limit of 100 requests per minute exceeded/);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
  });

  it("limits only after authentication: bad keys are 401, never counted", async () => {
    const res = await call("GET", "/v1/keys", { key: "le_admin_nope" });
    expect(res.status).toBe(401);
    expect(res.headers.get("ratelimit-limit")).toBeNull();
  });
});

describe("audit log", () => {
  it("records program creation, member erasure and blocking (without personal data), paginates, filters, and is per program", async () => {
    const p = await newProgram();
    const other = await newProgram();
    const m = await newMember(p, { email: "private@example.com", name: "Private Person" });
    expect((await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { status: "blocked" } })).status).toBe(200);
    expect((await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { status: "active" } })).status).toBe(200);
    // A storefront profile edit is not an admin action.
    expect((await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.storefront, body: { name: "P" } })).status).toBe(200);
    expect((await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.admin })).status).toBe(200);

    const memberAudit = await auditOf(p, `&entityType=member&entityId=${m.id}`);
    expect(memberAudit.map((a) => a.action)).toEqual(["member.erased", "member.unblocked", "member.blocked"]);
    expect(memberAudit[2]).toMatchObject({ before: { status: "active" }, after: { status: "blocked" } });
    expect(JSON.stringify(memberAudit)).not.toMatch(/private@example.com|Private Person/);

    const all = await auditOf(p);
    expect(all.at(-1)).toMatchObject({ action: "program.created", entityType: "program", entityId: p.programId, keyId: null });
    expect((await auditOf(other)).map((a) => a.action)).toEqual(["program.created"]);

    // Cursor pagination walks the same rows, newest first.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: Array<{ action: string }>; nextCursor: string | null } } = await call(
        "GET",
        `/v1/audit?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { key: p.keys.admin },
      );
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((a) => a.action));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((a) => a.action));
    expect((await call("GET", "/v1/audit?cursor=garbage", { key: p.keys.admin })).status).toBe(400);
    expect((await call("GET", "/v1/audit", { key: p.keys.storefront })).status).toBe(403);
  });
});

// Every registered /v1 route, as documented (see route-probes.ts); cross-tenant probes are in tenant-isolation.test.ts.
describe("scope matrix", () => {
  it("every /v1 route documents its scopes (or operator, or member token), accepts them, and refuses the others with 403", async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(20);
    const undocumented = ops
      .filter((o) => !o.scopes || (o.scopes.length === 0 && !o.operator && !o.member))
      .map((o) => `${o.method} ${o.path}`);
    expect(undocumented).toEqual([]);

    const p = await newProgram();
    await unlimited(p);
    const keys: Record<Scope, string> = p.keys;
    const problems: string[] = [];
    const validation400: string[] = [];
    for (const op of ops) {
      for (const scope of SCOPES) {
        // Ids that do not exist: the scope check must come first (or the route 404s), never act.
        const res = await request(op, {}, keys[scope]);
        const label = `${scope} ${op.method} ${op.path} → ${res.status} ${res.body?.error?.code ?? ""}`;
        if (res.status >= 500) problems.push(label);
        if (op.scopes!.includes(scope)) {
          // Signed inbound routes: the key is accepted, then the (absent) signature is refused.
          const signatureRoute =
            (op.path === "/v1/partner/events" || op.path === "/v1/channels/{channel}/events") &&
            res.body?.error?.code === "invalid_signature";
          if ((res.status === 401 && !signatureRoute) || res.status === 403) problems.push(`allowed but refused: ${label}`);
        } else if (res.status === 400) validation400.push(label);
        else if (res.status !== 403) problems.push(`not refused: ${label}`);
      }
    }
    expect(problems).toEqual([]);
    // Validation runs before the handler, so a few refusals are 400s; never more than a few.
    expect(validation400.length).toBeLessThan(ops.length / 4);
  });
});
