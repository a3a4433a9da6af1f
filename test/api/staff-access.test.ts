import { createExecutionContext } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { forgetAccessKeys } from "../../src/lib/access-jwt";
import { publishAccessKeys } from "../support/access-keys";
import worker from "../support/worker";
import { call, newProgram, type TestProgram, testEnv } from "./helpers";
import { operations } from "./route-probes";

// The test Access team: its keys are served by the test Worker at https://receiver.test/cdn-cgi/access/certs.
const TEAM = "https://receiver.test";
const AUD = "aud-loyalty-dashboard-test";

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let team: Keys;
let otherTeam: Keys;
let p: TestProgram;
let other: TestProgram;
let env: Env;

const people = { viewer: "vera@shop.example", marketer: "mark@shop.example", admin: "ada@shop.example" } as const;

beforeAll(async () => {
  team = await generateKeyPair("RS256", { extractable: true });
  otherTeam = await generateKeyPair("RS256", { extractable: true });
  publishAccessKeys({ keys: [{ ...(await exportJWK(team.publicKey)), kid: "team-1", alg: "RS256", use: "sig" }] });
  p = await newProgram();
  other = await newProgram();
  env = {
    ...testEnv,
    ACCESS_TEAM_DOMAIN: TEAM,
    ACCESS_AUD: AUD,
    STAFF_ROLES: JSON.stringify({
      [people.viewer]: { [p.programId]: "viewer" },
      [people.marketer]: { [p.programId]: "marketer" },
      [people.admin]: { [p.programId]: "admin", [other.programId]: "viewer" },
    }),
  };
});
beforeEach(() => forgetAccessKeys());

type TokenOptions = { email?: string; aud?: string; iss?: string; exp?: number | string; key?: Keys; kid?: string };

/** An Access token as Cloudflare Access would put in Cf-Access-Jwt-Assertion. */
function accessToken(o: TokenOptions = {}) {
  return new SignJWT({ email: o.email ?? people.admin, type: "app", identity_nonce: "n" })
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? "team-1" })
    .setIssuer(o.iss ?? TEAM)
    .setAudience(o.aud ?? AUD)
    .setSubject("user-1")
    .setIssuedAt()
    .setExpirationTime(o.exp ?? "5m")
    .sign((o.key ?? team).privateKey);
}

const b64url = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** A request through the Worker with `env` (Access configured): the token, and the program staff act in. */
async function asStaff(
  method: string,
  path: string,
  token: string | null,
  opts: { programId?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (token !== null) headers["cf-access-jwt-assertion"] = token;
  if (opts.programId !== null) headers["x-program-id"] = opts.programId ?? p.programId;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await worker.fetch(
    new Request(`http://dashboard.loyalty.test${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }),
    env,
    createExecutionContext(),
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const reward = { name: "Staff reward", kind: "coupon_percent", value: 10, pointsCost: 300, costMinor: 250 };

describe("staff through Cloudflare Access", () => {
  it("each role gets exactly what it may: viewer reads, marketer also changes marketing, admin everything", async () => {
    const expected: Array<[keyof typeof people, string, string, unknown, number]> = [
      ["viewer", "GET", "/v1/rewards", undefined, 200],
      ["viewer", "GET", "/v1/members/search?field=name&q=an", undefined, 200],
      ["viewer", "POST", "/v1/rewards", reward, 403],
      ["viewer", "POST", "/v1/keys", { name: "x", scope: "storefront" }, 403],
      ["marketer", "GET", "/v1/rewards", undefined, 200],
      ["marketer", "POST", "/v1/rewards", reward, 201],
      ["marketer", "POST", "/v1/keys", { name: "x", scope: "storefront" }, 403],
      ["admin", "POST", "/v1/rewards", reward, 201],
      ["admin", "POST", "/v1/keys", { name: "staff-made", scope: "storefront" }, 201],
    ];
    const got = [];
    for (const [role, method, path, body] of expected) {
      const res = await asStaff(method, path, await accessToken({ email: people[role] }), { body });
      got.push([role, method, path, body, res.status]);
    }
    expect(got).toEqual(expected);
  });

  it("a viewer cannot change anything: every admin write is refused with 403", async () => {
    const token = await accessToken({ email: people.viewer });
    // Every /v1 write an admin key may make, with its documented example body.
    const writes = (await operations()).filter((op) => op.method !== "GET" && op.scopes?.includes("admin"));
    expect(writes.length).toBeGreaterThan(20);
    const allowed: string[] = [];
    let forbidden = 0;
    for (const op of writes) {
      const path = op.path.replace(/\{(\w+)\}/g, "zz_probe");
      const res = await asStaff(op.method, path, token, {
        body: op.hasBody ? op.body : undefined,
        headers: { "idempotency-key": "viewer-probe" },
      });
      // Validation runs before the role check, so a few example-less bodies are 400s; nothing else may pass.
      if (res.status === 403) forbidden++;
      else if (res.status !== 400) allowed.push(`${op.method} ${op.path} → ${res.status}`);
    }
    expect(allowed).toEqual([]);
    expect(forbidden).toBeGreaterThan(writes.length * 0.75);
    expect((await call("GET", "/v1/rewards", { key: p.keys.admin })).body.data.every((x: { name: string }) => x.name === reward.name)).toBe(
      true,
    );
  });

  it("audits a staff member's change by their identity", async () => {
    const created = await asStaff("POST", "/v1/keys", await accessToken({ email: people.admin }), {
      body: { name: "audited", scope: "partner" },
    });
    expect(created.status).toBe(201);
    const audit = await call("GET", "/v1/audit?entityType=api_key", { key: p.keys.admin });
    const entry = audit.body.data.find((a: { entityId: string }) => a.entityId === created.body.id);
    expect(entry).toMatchObject({ actor: people.admin, action: expect.stringContaining("key") });
    expect(entry.keyId).toMatch(/^staff_[0-9a-f]{20}$/);
  });

  it("refuses every token that is not Access's own for this application, with 401", async () => {
    const valid = await accessToken({ email: people.admin });
    const [header, payload, signature] = valid.split(".");
    const forgedPayload = b64url(
      JSON.stringify({ ...JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))), email: "mallory@evil.example" }),
    );
    const cases: Record<string, string> = {
      expired: await accessToken({ exp: Math.floor(Date.now() / 1000) - 120 }),
      "wrong audience": await accessToken({ aud: "another-access-app" }),
      "wrong issuer": await accessToken({ iss: "https://other-team.cloudflareaccess.com" }),
      unsigned: `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${payload}.`,
      "tampered payload": `${header}.${forgedPayload}.${signature}`,
      "tampered signature": `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      "other team's key, same key id": await accessToken({ key: otherTeam }),
      "other team's key, unknown key id": await accessToken({ key: otherTeam, kid: "other-1" }),
      "not a JWT": "not-a-jwt",
    };
    const answers = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([name, token]) => [name, (await asStaff("GET", "/v1/rewards", token)).status])),
    );
    expect(answers).toEqual(Object.fromEntries(Object.keys(cases).map((name) => [name, 401])));
    expect((await asStaff("GET", "/v1/rewards", valid)).status).toBe(200);
  });

  it("acts only in a program the person has a role in, named by X-Program-Id", async () => {
    const admin = await accessToken({ email: people.admin });
    expect((await asStaff("GET", "/v1/rewards", admin, { programId: null })).status).toBe(400);
    expect((await asStaff("GET", "/v1/rewards", await accessToken({ email: people.viewer }), { programId: other.programId })).status).toBe(
      403,
    );
    expect((await asStaff("GET", "/v1/rewards", await accessToken({ email: "stranger@shop.example" }))).status).toBe(403);
    // Admin in p, viewer in the other program: the role is per program.
    expect((await asStaff("GET", "/v1/rewards", admin, { programId: other.programId })).status).toBe(200);
    expect((await asStaff("POST", "/v1/rewards", admin, { programId: other.programId, body: reward })).status).toBe(403);
  });

  it("opens no storefront-only, partner or operator route, and an API key still decides when sent", async () => {
    const admin = await accessToken({ email: people.admin });
    expect((await asStaff("GET", "/v1/health/deep", admin)).status).toBe(401);
    expect((await asStaff("POST", "/v1/partner/events", admin, { body: [] })).status).toBe(401);
    // With a key, the key is the principal (here a storefront key: 403 on an admin route).
    const keyed = await asStaff("POST", "/v1/keys", admin, {
      body: { name: "x", scope: "storefront" },
      headers: { authorization: `Bearer ${p.keys.storefront}` },
    });
    expect(keyed.status).toBe(403);
  });

  it("staff of a suspended program are refused with program_suspended until it is resumed", async () => {
    const operator = { key: testEnv.OPERATOR_TOKEN as string };
    const token = await accessToken();
    expect((await asStaff("GET", "/v1/program", token, { programId: other.programId })).status).toBe(200);
    expect((await call("POST", `/v1/operator/programs/${other.programId}/suspend`, { ...operator, body: { reason: "test" } })).status).toBe(
      200,
    );
    const refused = await asStaff("GET", "/v1/program", token, { programId: other.programId });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("program_suspended");
    // Their other program is not affected.
    expect((await asStaff("GET", "/v1/program", token)).status).toBe(200);
    expect((await call("POST", `/v1/operator/programs/${other.programId}/resume`, operator)).status).toBe(200);
    expect((await asStaff("GET", "/v1/program", token, { programId: other.programId })).status).toBe(200);
  });

  it("without Access configured the header means nothing", async () => {
    const res = await worker.fetch(
      new Request("http://loyalty.test/v1/rewards", {
        headers: { "cf-access-jwt-assertion": await accessToken(), "x-program-id": p.programId },
      }),
      { ...testEnv, STAFF_ROLES: env.STAFF_ROLES },
      createExecutionContext(),
    );
    expect(res.status).toBe(401);
  });

  it("locally, a documented development identity signs in without Access (and only against a local database)", async () => {
    const dev = { ...testEnv, STAFF_DEV_IDENTITY: "dev@loyalty.local" } as Env;
    const created = await worker.fetch(
      new Request("http://localhost:8787/v1/rewards", {
        method: "POST",
        headers: { "x-program-id": p.programId, "content-type": "application/json" },
        body: JSON.stringify({ ...reward, name: "dev reward" }),
      }),
      dev,
      createExecutionContext(),
    );
    expect(created.status).toBe(201);
    const audit = await call("GET", "/v1/audit?entityType=reward", { key: p.keys.admin });
    expect(audit.body.data.some((a: { actor: string | null }) => a.actor === "dev@loyalty.local")).toBe(true);
    const { settingsOf } = await import("../../src/env");
    expect(() => settingsOf({ ...dev, LIBSQL_URL: "libsql://prod.turso.io" } as Env)).toThrow(/STAFF_DEV_IDENTITY/);
  });
});
