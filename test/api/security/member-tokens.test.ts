import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { openSecret, secretContext } from "../../../src/lib/secret-box";
import { accrue, call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "../helpers";

/** A member token minted the way a shop's server does. */
async function mint(p: TestProgram, memberId: string, body: Record<string, unknown> = {}) {
  const res = await call("POST", `/v1/members/${memberId}/tokens`, { key: p.keys.storefront, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
}

async function reward(p: TestProgram, pointsCost = 100) {
  const res = await call("POST", "/v1/rewards", {
    key: p.keys.admin,
    body: { name: "5 off", kind: "fixed_discount", value: 500, pointsCost, costMinor: 250 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** A program with two members holding points, a reward, and a read+redeem token for member A. */
async function setup() {
  const p = await newProgram();
  const a = await newMember(p);
  const b = await newMember(p);
  expect((await accrue(p, a.id, 50_000)).status).toBe(201);
  expect((await accrue(p, b.id, 50_000)).status).toBe(201);
  const rewardId = await reward(p);
  const token = await mint(p, a.id, { scopes: ["read", "redeem"] });
  return { p, a, b, rewardId, token };
}

/** The program's current signing key, opened as the Worker opens it: to forge what only time can. */
async function signingKey(programId: string) {
  const [row] = (
    await db().$client.execute({
      sql: "SELECT json_extract(settings, '$.memberTokenKey') AS k FROM programs WHERE id = ?",
      args: [programId],
    })
  ).rows;
  return new TextEncoder().encode(await openSecret(testEnv, String(row.k), secretContext.memberToken(programId)));
}

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const partsOf = (jwt: string) => {
  const [h, pl, s] = jwt.split(".");
  return {
    header: JSON.parse(atob(h.replaceAll("-", "+").replaceAll("_", "/"))),
    payload: JSON.parse(atob(pl.replaceAll("-", "+").replaceAll("_", "/"))),
    h,
    pl,
    s,
  };
};

describe("member tokens", () => {
  it("minting: storefront key only, default 15 minutes, at most 24 h, never for a member of another program", async () => {
    const { p, a } = await setup();
    const res = await call("POST", `/v1/members/${a.id}/tokens`, { key: p.keys.storefront });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tokenType: "Bearer", memberId: a.id, scopes: ["read"] });
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    expect((await call("POST", `/v1/members/${a.id}/tokens`, { key: p.keys.storefront, body: { ttlSeconds: 86_401 } })).status).toBe(400);
    expect((await call("POST", `/v1/members/${a.id}/tokens`, { key: p.keys.partner })).status).toBe(403);
    const other = await newProgram();
    expect((await call("POST", `/v1/members/${a.id}/tokens`, { key: other.keys.storefront })).status).toBe(404);
    // A member token cannot mint tokens.
    expect((await call("POST", `/v1/members/${a.id}/tokens`, { key: await mint(p, a.id, { scopes: ["read", "redeem"] }) })).status).toBe(
      403,
    );
  });

  it("reads its own member's routes", async () => {
    const { p, a, token } = await setup();
    const me = await call("GET", "/v1/me", { key: token });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body).toMatchObject({
      id: a.id,
      externalId: a.externalId,
      scopes: ["read", "redeem"],
      program: { id: p.programId, defaultLocale: "en-US" },
    });
    expect(me.body).not.toHaveProperty("analytics");
    for (const path of ["balance", "ledger", "rewards", "referrals"]) {
      const res = await call("GET", `/v1/members/${a.id}/${path}`, { key: token });
      expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(200);
    }
    const balance = await call("GET", `/v1/members/${a.id}/balance`, { key: token });
    expect(balance.body.available).toBe(500);
    const quote = await call("POST", "/v1/quote", { key: token, body: { amount: 1000, currency: "USD" } });
    expect(quote.status, JSON.stringify(quote.body)).toBe(200);
    expect(quote.body.points).toBe(10);
  });

  it("member A's token cannot read or redeem for member B, nor quote for B", async () => {
    const { p, b, rewardId, token } = await setup();
    for (const path of ["balance", "ledger", "rewards", "referrals", "tier"]) {
      const res = await call("GET", `/v1/members/${b.id}/${path}`, { key: token });
      expect(res.status, path).toBe(404);
    }
    const redeem = await call("POST", `/v1/members/${b.id}/rewards/${rewardId}/redeem`, { key: token, idempotencyKey: uniqueKey("r") });
    expect(redeem.status).toBe(404);
    expect((await call("POST", "/v1/quote", { key: token, body: { memberId: b.id, amount: 1000, currency: "USD" } })).status).toBe(404);
    expect(
      (await call("POST", "/v1/quote", { key: token, body: { externalId: b.externalId, amount: 1000, currency: "USD" } })).status,
    ).toBe(404);
    const bBalance = await call("GET", `/v1/members/${b.id}/balance`, { key: p.keys.storefront });
    expect(bBalance.body.available).toBe(500);
  });

  it("cannot call admin, partner, storefront-only or operator routes", async () => {
    const { a, token } = await setup();
    const attempts: Array<[string, string, unknown?]> = [
      ["GET", `/v1/members/${a.id}`],
      ["PATCH", `/v1/members/${a.id}`, { name: "x" }],
      ["POST", `/v1/members/${a.id}/accruals`, { orderId: "o1", amount: 100, currency: "USD" }],
      ["POST", `/v1/members/${a.id}/adjustments`, { points: 1000, reason: "gift" }],
      ["POST", `/v1/members/${a.id}/redemptions`, { points: 10, reason: "checkout" }],
      ["POST", `/v1/members/${a.id}/erase`],
      ["GET", "/v1/members?externalId=x"],
      ["POST", "/v1/members", { externalId: "new" }],
      ["GET", "/v1/rewards"],
      ["POST", "/v1/rewards", { name: "free", kind: "fixed_discount", value: 1, pointsCost: 1 }],
      ["GET", "/v1/keys"],
      ["POST", "/v1/partner/events", []],
      ["POST", "/v1/widget/secret/rotate"],
      ["POST", "/v1/member-tokens/signing-key/rotate"],
      ["GET", "/v1/webhooks"],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { key: token, body, idempotencyKey: uniqueKey("x") });
      expect([400, 403, 404], `${method} ${path}: ${res.status}`).toContain(res.status);
      expect(res.status, `${method} ${path}`).not.toBe(400);
    }
  });

  it("a token of another program is no token here; API keys cannot call /v1/me", async () => {
    const { p, a } = await setup();
    const other = await newProgram();
    const c = await newMember(other);
    const otherToken = await mint(other, c.id);
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: otherToken })).status).toBe(404);
    expect((await call("GET", `/v1/members/${c.id}/balance`, { key: otherToken })).status).toBe(200);
    // Re-addressed to this program (aud), the signature no longer holds.
    const { header, payload, s } = partsOf(otherToken);
    const forged = `${b64url(header)}.${b64url({ ...payload, aud: p.programId, sub: a.id })}.${s}`;
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: forged })).status).toBe(401);
    expect((await call("GET", "/v1/me", { key: p.keys.storefront })).status).toBe(403);
    expect((await call("GET", "/v1/me")).status).toBe(401);
  });

  it("refuses expired, tampered, unknown-kid and alg none tokens", async () => {
    const { p, a, token } = await setup();
    const { header, payload, h, pl, s } = partsOf(token);
    const bad = {
      tampered: `${h}.${b64url({ ...payload, scope: "read redeem", sub: a.id, exp: payload.exp + 3600 })}.${s}`,
      signatureFlipped: `${h}.${pl}.${s.slice(0, -2)}${s.endsWith("A") ? "BB" : "AA"}`,
      wrongKid: `${b64url({ ...header, kid: "mtk_NOTAKEY000000000" })}.${pl}.${s}`,
      algNone: `${b64url({ alg: "none", typ: "JWT", kid: header.kid })}.${pl}.`,
      // Signed with the program's real key, only its time is up.
      expired: await new SignJWT({ ...payload, exp: Math.floor(Date.now() / 1000) - 60 })
        .setProtectedHeader(header)
        .sign(await signingKey(p.programId)),
    };
    for (const [what, jwt] of Object.entries(bad)) {
      const res = await call("GET", `/v1/members/${a.id}/balance`, { key: jwt });
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe("unauthorized");
    }
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: token })).status).toBe(200);
  });

  it("without the redeem scope a token cannot redeem; with it, redeems once per Idempotency-Key and the balance drops by the cost", async () => {
    const { p, a, rewardId, token } = await setup();
    const readOnly = await mint(p, a.id);
    const refused = await call("POST", `/v1/members/${a.id}/rewards/${rewardId}/redeem`, { key: readOnly, idempotencyKey: uniqueKey("r") });
    expect(refused.status).toBe(403);
    const key = uniqueKey("r");
    const first = await call("POST", `/v1/members/${a.id}/rewards/${rewardId}/redeem`, { key: token, idempotencyKey: key });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await call("POST", `/v1/members/${a.id}/rewards/${rewardId}/redeem`, { key: token, idempotencyKey: key });
    expect(again.body).toEqual(first.body);
    const balance = await call("GET", `/v1/members/${a.id}/balance`, { key: token });
    expect(balance.body.available).toBe(400);
  });

  it("refused once the member is blocked or erased, and none can be minted", async () => {
    const { p, a, b, token } = await setup();
    const tokenB = await mint(p, b.id);
    expect((await call("PATCH", `/v1/members/${a.id}`, { key: p.keys.admin, body: { status: "blocked" } })).status).toBe(200);
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: token })).status).toBe(401);
    expect((await call("POST", `/v1/members/${a.id}/tokens`, { key: p.keys.storefront })).status).toBe(403);
    expect((await call("POST", `/v1/members/${b.id}/erase`, { key: p.keys.admin })).status).toBe(200);
    expect((await call("GET", "/v1/me", { key: tokenB })).status).toBe(401);
    expect((await call("POST", `/v1/members/${b.id}/tokens`, { key: p.keys.storefront })).status).toBe(404);
  });

  it("key rotation: tokens signed with the previous key still work, the one before is refused", async () => {
    const { p, a, token } = await setup();
    const first = await call("POST", "/v1/member-tokens/signing-key/rotate", { key: p.keys.admin });
    expect(first.status).toBe(200);
    expect(first.body.previousKeyId).toBe(partsOf(token).header.kid);
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: token })).status).toBe(200);
    const fresh = await mint(p, a.id);
    expect(partsOf(fresh).header.kid).toBe(first.body.keyId);
    await call("POST", "/v1/member-tokens/signing-key/rotate", { key: p.keys.admin });
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: token })).status).toBe(401);
    expect((await call("GET", `/v1/members/${a.id}/balance`, { key: fresh })).status).toBe(200);
  });
});

describe("shop-signed assertions", () => {
  async function withSecret() {
    const ctx = await setup();
    const res = await call("POST", "/v1/widget/secret/rotate", { key: ctx.p.keys.admin });
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^wsk_/);
    return { ...ctx, secret: res.body.secret as string };
  }
  const sign = (secret: string, claims: Record<string, unknown>, expIn = 600) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setExpirationTime(Math.floor(Date.now() / 1000) + expIn)
      .sign(new TextEncoder().encode(secret));

  it("answered as a member token for the member it names, in the program it names", async () => {
    const { p, a, b, secret, rewardId } = await withSecret();
    const assertion = await sign(secret, { externalId: a.externalId });
    const headers = { "x-program-id": p.programId };
    const me = await call("GET", "/v1/me", { key: assertion, headers });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body.id).toBe(a.id);
    expect((await call("GET", `/v1/members/${b.id}/balance`, { key: assertion, headers })).status).toBe(404);
    const redeem = await call("POST", `/v1/members/${a.id}/rewards/${rewardId}/redeem`, {
      key: assertion,
      headers,
      idempotencyKey: uniqueKey("r"),
    });
    expect(redeem.status).toBe(201);
    const readOnly = await sign(secret, { externalId: a.externalId, scope: "read" });
    expect(
      (await call("POST", `/v1/members/${a.id}/rewards/${rewardId}/redeem`, { key: readOnly, headers, idempotencyKey: uniqueKey("r") }))
        .status,
    ).toBe(403);
  });

  it("refuses a wrong secret, another program, no exp, exp too far ahead, expired, unknown member", async () => {
    const { p, a, secret } = await withSecret();
    const other = await newProgram();
    const headers = { "x-program-id": p.programId };
    const cases: Record<string, [string, Record<string, string>]> = {
      wrongSecret: [await sign(`${secret}x`, { externalId: a.externalId }), headers],
      otherProgram: [await sign(secret, { externalId: a.externalId }), { "x-program-id": other.programId }],
      noProgram: [await sign(secret, { externalId: a.externalId }), {}],
      noExp: [
        await new SignJWT({ externalId: a.externalId }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret)),
        headers,
      ],
      tooLong: [await sign(secret, { externalId: a.externalId }, 3 * 86_400), headers],
      expired: [await sign(secret, { externalId: a.externalId }, -120), headers],
      unknownMember: [await sign(secret, { externalId: "nobody" }), headers],
    };
    for (const [what, [jwt, h]] of Object.entries(cases)) {
      const res = await call("GET", "/v1/me", { key: jwt, headers: h });
      expect(res.status, what).toBe(401);
    }
  });

  it("after a rotation the previous secret is still accepted", async () => {
    const { p, a, secret } = await withSecret();
    const rotated = await call("POST", "/v1/widget/secret/rotate", { key: p.keys.admin });
    expect(rotated.body.previousSecretValidUntil).toEqual(expect.any(String));
    for (const s of [secret, rotated.body.secret]) {
      const res = await call("GET", "/v1/me", {
        key: await sign(s, { externalId: a.externalId }),
        headers: { "x-program-id": p.programId },
      });
      expect(res.status).toBe(200);
    }
  });
});

describe("CORS for the widget", () => {
  const allowOrigins = async (p: TestProgram, origins: string[]) => {
    const res = await call("PATCH", "/v1/program", { key: p.keys.admin, body: { allowedOrigins: origins } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  it("only the program's allowed origins can read a member's answers; no wildcard, no credentials", async () => {
    const { p, a, token } = await setup();
    const other = await newProgram();
    const shop = `https://shop-${uniqueKey("o").toLowerCase()}.example`;
    const elsewhere = `https://other-${uniqueKey("o").toLowerCase()}.example`;
    await allowOrigins(p, [shop]);
    await allowOrigins(other, [elsewhere]);
    // Origins are cached per isolate for 30 s: these origins are new, so nothing stale is cached.
    const preflight = (origin: string) =>
      call("OPTIONS", `/v1/members/${a.id}/balance`, {
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
    const ok = await preflight(shop);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(shop);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
    const unlisted = await preflight("https://evil.example");
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();

    const read = (origin: string) => call("GET", `/v1/members/${a.id}/balance`, { key: token, headers: { origin } });
    const mine = await read(shop);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("access-control-allow-origin")).toBe(shop);
    expect(mine.headers.get("vary")).toMatch(/Origin/i);
    expect(mine.headers.get("access-control-allow-credentials")).toBeNull();
    for (const origin of ["https://evil.example", elsewhere, "null", `${shop}.evil.example`]) {
      const res = await read(origin);
      expect(res.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });
});
