// Bad input on every route (src/routes/index.ts): generated bodies, query
// strings and headers — huge, negative and fractional numbers, unicode, wrong types, unknown and
// missing fields, malformed JSON, bodies over 1 MB. Never a 5xx; every 4xx is JSON with a code
// from the closed set; and a refused request writes nothing (the program's rows, sums and
// update times are unchanged).
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type ErrorCode, errorCodes } from "../../src/lib/errors";
import { apiRoutes } from "../../src/routes";
import { accrue, callDirect as call, db, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

type Method = "get" | "post" | "put" | "patch" | "delete";
type RouteInfo = { method: string; path: string; hasBody: boolean; example: unknown; query: string[] };
type Case = {
  method: Method;
  body: { kind: "json"; value: unknown } | { kind: "raw"; text: string } | { kind: "none" };
  query: Array<[string, string]>;
  auth: "admin" | "storefront" | "partner" | "none" | "garbage" | "basic" | "long";
  idempotency: "fresh" | "none" | "empty" | "long" | "latin1";
  contentType: "json" | "text" | "none" | "utf16";
};

const NASTY_NUMBERS = [1e308, -1e308, 2 ** 53, -(2 ** 53) - 2, 1e21, -1, -0.5, 0.5, 0, 1.0000001, 1.2345678901234568e29, Number.MIN_VALUE];
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 🎉",
  "ー".repeat(300),
  "'; DROP TABLE members; --",
  "<script>alert(1)</script>",
  "9".repeat(400),
  "2026-02-30T25:61:00Z",
  "NaN",
  "-Infinity",
  "\uD800",
  `mem_${"x".repeat(70)}`,
];
const NASTY_OTHER = [true, false, null, [], {}, [1, "a", null], { nested: { deep: [1, 2, 3] } }];
const MALFORMED = ["{", '{"a":', "[1,2", "{'single': 1}", '{"a":1}}', "\u0000", "nul", '{"amount": 01}', '"just a string'];

const nastyValue = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS, ...NASTY_STRINGS, ...NASTY_OTHER),
  fc.integer(),
  fc.double(),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A near-valid body: the route's example with one field changed, removed or added, or something else entirely. */
function bodyArb(example: unknown) {
  const base = example && typeof example === "object" && !Array.isArray(example) ? (example as Record<string, unknown>) : {};
  const keys = [...Object.keys(base), "unexpectedField"];
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(...keys), nastyValue).map(([k, v]) => ({ kind: "json" as const, value: { ...base, [k]: v } })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...keys)
        .map((k) => ({ kind: "json" as const, value: Object.fromEntries(Object.entries(base).filter(([key]) => key !== k)) })),
    },
    { weight: 2, arbitrary: nastyValue.map((value) => ({ kind: "json" as const, value })) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED).map((text) => ({ kind: "raw" as const, text })) },
  );
}

function caseArb(route: RouteInfo) {
  const methods: Method[] = route.method === "all" ? ["get", "post"] : [route.method as Method];
  const queryArb = fc.array(
    fc.tuple(
      fc.constantFrom(...route.query, "limit", "cursor", "unknown"),
      fc.oneof(fc.constantFrom("-1", "0", "1e9", "abc", "1.5", "", "%00", "null", "9".repeat(300), "🎉"), fc.string({ maxLength: 20 })),
    ),
    { maxLength: 3 },
  );
  return fc.record({
    method: fc.constantFrom(...methods),
    body: route.hasBody ? bodyArb(route.example) : fc.constant({ kind: "none" as const }),
    query: queryArb,
    auth: fc.constantFrom("admin", "admin", "admin", "storefront", "partner", "none", "garbage", "basic", "long"),
    idempotency: fc.constantFrom("fresh", "fresh", "none", "empty", "long", "latin1"),
    contentType: fc.constantFrom("json", "json", "json", "text", "none", "utf16"),
  }) as fc.Arbitrary<Case>;
}

let p: TestProgram;
let ids: Record<string, string> = {};
let routes: RouteInfo[] = [];
let fingerprintSql = "";

/** The program's footprint: row count and latest update in every table it owns, Σ ledger, Σ balances. */
async function fingerprint() {
  const r = await db().$client.execute({ sql: fingerprintSql, args: [p.programId] });
  return JSON.stringify(r.rows[0]);
}

async function buildFingerprintSql() {
  const tables = await db().$client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'",
  );
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const cols = (await db().$client.execute(`SELECT name FROM pragma_table_info('${name}')`)).rows.map((c) => String(c.name));
    // Usage metering counts every request, refused ones too: a meter, not state a refusal may leave.
    if (!cols.includes("program_id") || name === "program_usage_daily") continue;
    const updated = cols.includes("updated_at") ? ` || ':' || COALESCE(MAX(updated_at), '')` : "";
    parts.push(`(SELECT COUNT(*)${updated} FROM "${name}" WHERE program_id = ?1) AS "${name}"`);
  }
  parts.push("(SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ?1) AS ledger_sum");
  parts.push(
    "(SELECT COALESCE(SUM(points_balance), 0) || ':' || COALESCE(SUM(points_pending), 0) FROM members WHERE program_id = ?1) AS balances",
  );
  return `SELECT ${parts.join(", ")}`;
}

/** Real ids for path parameters: created through the routes' own examples where there is one. */
async function realIds(doc: any): Promise<Record<string, string>> {
  const member = await newMember(p);
  const orderId = uniqueKey("fuzz-order");
  await accrue(p, member.id, 10_000, { orderId });
  await call("POST", `/v1/members/${member.id}/adjustments`, {
    key: p.keys.admin,
    idempotencyKey: uniqueKey(),
    body: { points: 100_000, reason: "fuzz float" },
  });
  const found: Record<string, string> = {
    memberId: member.id,
    orderId,
    channel: "email",
    period: "2026-11",
    bucket: "fuzz",
    file: "chart.js",
    "*": "noop",
  };
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    const match = /^(.*)\/\{(\w+)\}$/.exec(path);
    if (!match || found[match[2]]) continue;
    const example = exampleOf(doc, doc.paths[match[1]]?.post);
    if (example === undefined || !item) continue;
    const res = await call("POST", match[1], { key: p.keys.admin, body: example, idempotencyKey: uniqueKey() });
    if (res.status < 300 && typeof res.body?.id === "string") found[match[2]] = res.body.id;
  }
  // A coupon code: redeem the reward for the member.
  if (found.rewardId) {
    const redeemed = await call("POST", `/v1/members/${member.id}/rewards/${found.rewardId}/redeem`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
    });
    const code = redeemed.body?.coupon?.code ?? redeemed.body?.code;
    if (typeof code === "string") found.code = code;
  }
  return found;
}

function exampleOf(doc: any, op: any): unknown {
  const content = op?.requestBody?.content?.["application/json"];
  if (!content) return undefined;
  if (content.example !== undefined) return content.example;
  let schema = content.schema;
  if (schema?.$ref) schema = doc.components?.schemas?.[schema.$ref.split("/").pop()];
  return schema?.example;
}

function pathFor(template: string) {
  return template.replace(/\{(\w+)\}|\*/g, (_whole, name) => encodeURIComponent(ids[name ?? "*"] ?? `missing-${name ?? "x"}`));
}

async function send(route: RouteInfo, c: Case) {
  const headers: Record<string, string> = {};
  const auth = {
    admin: `Bearer ${p.keys.admin}`,
    storefront: `Bearer ${p.keys.storefront}`,
    partner: `Bearer ${p.keys.partner}`,
    none: "",
    garbage: "Bearer le_not_a_key",
    basic: "Basic dXNlcjpwYXNz",
    long: `Bearer ${"k".repeat(5000)}`,
  }[c.auth];
  if (auth) headers.authorization = auth;
  const idempotency = { fresh: uniqueKey("fuzz"), none: "", empty: "", long: "i".repeat(300), latin1: "clé-ünïcødé" }[c.idempotency];
  if (c.idempotency !== "none") headers["idempotency-key"] = idempotency;
  const contentType = { json: "application/json", text: "text/plain", none: "", utf16: "application/json; charset=utf-16" }[c.contentType];
  if (contentType) headers["content-type"] = contentType;
  const query = c.query.length ? `?${c.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}` : "";
  const rawBody =
    c.method === "get"
      ? undefined
      : c.body.kind === "json"
        ? JSON.stringify(c.body.value)
        : c.body.kind === "raw"
          ? c.body.text
          : undefined;
  return call(c.method.toUpperCase(), `${pathFor(route.path)}${query}`, { headers, rawBody });
}

function expectWellFormedRefusal(res: { status: number; body: any }, what: string) {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`).toBeLessThan(500);
  if (res.status < 400) return;
  const code = res.body?.error?.code as ErrorCode;
  expect(Object.keys(errorCodes), `${what}: error code ${code}`).toContain(code);
  expect(errorCodes[code], `${what}: ${code} with status ${res.status}`).toBe(res.status);
  expect(typeof res.body.error.requestId).toBe("string");
}

beforeAll(async () => {
  p = await newProgram({ name: "Fuzz" });
  // Hundreds of requests a minute on one key: lift the program's per-key limit.
  await db().$client.execute({ sql: "UPDATE api_keys SET rate_limit_per_minute = 1000000 WHERE program_id = ?", args: [p.programId] });
  const doc = (await call("GET", "/openapi.json")).body;
  ids = await realIds(doc);
  fingerprintSql = await buildFingerprintSql();
  routes = apiRoutes.map((m) => {
    const r = m.route as { method: string; path: string; request?: { body?: unknown; query?: { shape?: Record<string, unknown> } } };
    const op = doc.paths?.[r.path]?.[r.method];
    const query = (op?.parameters ?? []).filter((x: any) => x.in === "query").map((x: any) => x.name as string);
    return { method: r.method, path: r.path, hasBody: Boolean(r.request?.body) || r.method === "all", example: exampleOf(doc, op), query };
  });
  // Destructive routes last, so the ids above stay valid for the others as long as possible.
  const destructive = (r: RouteInfo) => r.method === "delete" || /\/(erase|revoke|stop|cancel)$/.test(r.path);
  routes.sort((a, b) => Number(destructive(a)) - Number(destructive(b)));
});

describe("bad input on every route", () => {
  it("covers every registered route", () => {
    expect(routes.length).toBe(apiRoutes.length);
    expect(routes.length).toBeGreaterThan(20);
  });

  it("never answers 5xx, answers 4xx with a closed-set code, and writes nothing when it refuses", async () => {
    const statuses: Record<number, number> = {};
    for (const route of routes) {
      let before = await fingerprint();
      await fc.assert(
        fc.asyncProperty(caseArb(route), async (c) => {
          const res = await send(route, c);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const what = `${c.method.toUpperCase()} ${route.path} ${JSON.stringify(c).slice(0, 400)}`;
          expectWellFormedRefusal(res, what);
          const after = await fingerprint();
          if (res.status >= 400) expect(after, `${what} was refused with ${res.status} but wrote`).toBe(before);
          before = after;
        }),
        { numRuns: 10, seed: 20261125, endOnFailure: true },
      );
    }
    // Most cases got past authentication into validation (else this fuzzed only the key check).
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    expect((statuses[400] ?? 0) / total, JSON.stringify(statuses)).toBeGreaterThan(0.25);
  });

  it("refuses malformed JSON with 400 and bodies over 1 MB with 413, writing nothing", async () => {
    const before = await fingerprint();
    const oversize = JSON.stringify({ reason: "x".repeat(1_100_000), points: 1, amount: 1, orderId: "big", currency: "USD" });
    for (const route of routes.filter((r) => r.method !== "get" && r.path.startsWith("/v1/"))) {
      const base: Case = {
        method: (route.method === "all" ? "post" : route.method) as Method,
        body: { kind: "raw", text: oversize },
        query: [],
        auth: "admin",
        idempotency: "fresh",
        contentType: "json",
      };
      const big = await send(route, base);
      expectWellFormedRefusal(big, `${route.method} ${route.path} (1.1 MB body)`);
      expect(big.status, `${route.method} ${route.path} (1.1 MB body)`).toBe(413);
      if (route.hasBody) {
        for (const text of MALFORMED.slice(0, 3)) {
          const bad = await send(route, { ...base, body: { kind: "raw", text } });
          expectWellFormedRefusal(bad, `${route.method} ${route.path} ${JSON.stringify(text)}`);
          // 400, or 401 on the signed partner route, which checks the signature over the raw body first.
          expect([400, 401], `${route.method} ${route.path} ${JSON.stringify(text)} → ${bad.status}`).toContain(bad.status);
        }
      }
    }
    expect(await fingerprint()).toBe(before);
  });
});
