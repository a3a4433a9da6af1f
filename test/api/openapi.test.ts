import { describe, expect, it } from "vitest";
import packageJson from "../../package.json";
import { createApp } from "../../src/app";
import { apiRoutes } from "../../src/routes";
import { accrue, call, newMember, newProgram } from "./helpers";

type Json = Record<string, any>;
type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: Json;
  responses?: Record<string, Json>;
  parameters?: Json[];
};

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
// Static files of the pages, and the widget demo shop (served on a local database only).
const UNDOCUMENTED = [
  /^\/admin\/assets\//,
  /^\/docs\/assets\//,
  /^\/widget\/assets\//,
  /^\/admin\/$/,
  /^\/widget\/demo$/,
  /^\/widget\.js$/,
];

/** Hono's `/v1/members/:memberId` (optionally `:id{regex}`) in OpenAPI form: `/v1/members/{memberId}`. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

async function fetchDocument() {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  return res.body as Json;
}

/** Resolve a local `$ref` (`#/components/schemas/X`). */
function deref(doc: Json, node: Json | undefined): Json | undefined {
  if (!node?.$ref) return node;
  return String(node.$ref)
    .replace(/^#\//, "")
    .split("/")
    .reduce<Json | undefined>((n, key) => n?.[key], doc);
}

function hasExample(doc: Json, media: Json | undefined): boolean {
  if (!media) return false;
  if (media.example !== undefined || (media.examples && Object.keys(media.examples).length > 0)) return true;
  return schemaHasExample(doc, media.schema);
}

/** An example on the schema itself, or on every alternative of a oneOf/anyOf (e.g. one event or a batch). */
function schemaHasExample(doc: Json, node: Json | undefined): boolean {
  const schema = deref(doc, node);
  if (!schema) return false;
  if (schema.example !== undefined || (Array.isArray(schema.examples) && schema.examples.length > 0)) return true;
  const alternatives = schema.oneOf ?? schema.anyOf;
  return Array.isArray(alternatives) && alternatives.length > 0 && alternatives.every((alt: Json) => schemaHasExample(doc, alt));
}

/** Every route the app serves: the route modules and what Hono actually routes. */
function servedRoutes() {
  const app = createApp();
  const fromHono = app.routes
    .filter((r) => r.method !== "ALL" && !r.path.endsWith("*"))
    .map((r) => ({ method: r.method.toLowerCase(), path: openApiPath(r.path) }));
  const fromModules = apiRoutes.map((m) => ({ method: m.route.method.toLowerCase(), path: m.route.path }));
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of [...fromModules, ...fromHono]) if (!UNDOCUMENTED.some((re) => re.test(r.path))) seen.set(`${r.method} ${r.path}`, r);
  return [...seen.values()];
}

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 with info, this deployment as server, a bearer scheme and described tags", async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Loyalty Edge API", version: expect.any(String) });
    expect(doc.info.description).toMatch(/Idempotency-Key/);
    expect(doc.servers).toEqual([{ url: "http://loyalty.test", description: "This deployment" }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const used = new Set(
      Object.values(doc.paths as Record<string, Record<string, Operation>>).flatMap((item) =>
        Object.values(item).flatMap((op) => op.tags ?? []),
      ),
    );
    const declared = new Map((doc.tags as Array<{ name: string; description?: string }>).map((t) => [t.name, t.description]));
    for (const tag of used) expect(declared.get(tag), `tag ${tag}`).toMatch(/\S/);
    expect(doc.tags[0].name).toBe("System");
  });

  it("documents every /v1 and system route: summary, a 2xx, its 4xx errors, a JSON body example", async () => {
    const doc = await fetchDocument();
    const routes = servedRoutes();
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.some((r) => r.path === "/health")).toBe(true);

    const problems: string[] = [];
    for (const { method, path } of routes) {
      const op = doc.paths?.[path]?.[method] as Operation | undefined;
      const where = `${method.toUpperCase()} ${path}`;
      if (!op) {
        problems.push(`${where}: not in the document`);
        continue;
      }
      if (!op.summary?.trim()) problems.push(`${where}: no summary`);
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((s) => /^2\d\d$/.test(s))) problems.push(`${where}: no 2xx response`);
      // A route that takes a key or input can fail with 4xx: those answers must be documented, as the Error schema.
      const takesInput = Boolean(op.security?.length || op.requestBody || op.parameters?.length);
      const errors = statuses.filter((s) => /^[45]\d\d$/.test(s));
      if (takesInput && !errors.some((s) => s.startsWith("4"))) problems.push(`${where}: no 4xx error responses`);
      if (op.security?.length && !["401", "403"].every((s) => statuses.includes(s)))
        problems.push(`${where}: authenticated but 401/403 not documented`);
      if (op.requestBody && !statuses.includes("400")) problems.push(`${where}: takes a body but 400 not documented`);
      for (const s of errors) {
        const schema = op.responses![s].content?.["application/json"]?.schema;
        if (schema?.$ref !== "#/components/schemas/Error") problems.push(`${where}: ${s} is not the Error schema`);
      }
      const body = op.requestBody?.content?.["application/json"];
      if (body && !hasExample(doc, body)) problems.push(`${where}: JSON request body without an example`);
    }
    expect(problems, `Routes to fix (tell their owners):\n${problems.join("\n")}`).toEqual([]);
  });

  it("names every operation with a unique dotted resource-style operationId, and every route module too", async () => {
    const doc = await fetchDocument();
    const documented = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ where: `${m.toUpperCase()} ${path}`, id: item[m].operationId as string | undefined })),
    );
    expect(documented.filter((o) => !o.id || !/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/.test(o.id)).map((o) => `${o.where}: ${o.id}`)).toEqual(
      [],
    );
    const ids = documented.map((o) => o.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const moduleIds = apiRoutes.map((m) => ("operationId" in m ? m.operationId : `${m.route.method} ${m.route.path}`));
    expect(moduleIds.filter((id, i) => moduleIds.indexOf(id) !== i)).toEqual([]);
    for (const { id } of documented) expect(moduleIds).toContain(id);
  });

  it("derives each keyed operation's security, x-scopes and first sentence from the scopes it accepts", async () => {
    const doc = await fetchDocument();
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        const scopes = op["x-scopes"] as string[] | undefined;
        const where = `${method.toUpperCase()} ${path}`;
        if (!scopes) {
          const operatorOnly = op["x-operator"] === true;
          const memberOnly = typeof op["x-member-scope"] === "string";
          if (memberOnly && !String(op.description ?? "").startsWith("Member token (scope"))
            problems.push(`${where}: member-token-only description does not start with "Member token (scope"`);
          if (op.security?.length && !operatorOnly && !memberOnly) problems.push(`${where}: security without x-scopes`);
          if (operatorOnly && !String(op.description ?? "").startsWith("Operator only:"))
            problems.push(`${where}: operator-only description does not start with "Operator only:"`);
          if (operatorOnly && !op.security?.some((s: Json) => "bearer" in s)) problems.push(`${where}: x-operator without bearer security`);
          continue;
        }
        if (!op.security?.some((s: Json) => "bearer" in s)) problems.push(`${where}: x-scopes without bearer security`);
        const sentence = `${scopes.length === 1 ? "Scope" : "Scopes"}: ${scopes.join(", ")}.`;
        if (!String(op.description ?? "").startsWith(sentence)) problems.push(`${where}: description does not start with "${sentence}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("marks exactly a member's own routes as open to member tokens, redeem only for redeeming", async () => {
    const doc = await fetchDocument();
    const open: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>))
      for (const method of METHODS.filter((m) => item[m]?.["x-member-scope"]))
        open.push(`${method.toUpperCase()} ${path} ${item[method]["x-member-scope"]}`);
    expect(open.sort()).toEqual(
      [
        "GET /v1/me read",
        "GET /v1/me/code read",
        "GET /v1/members/{memberId}/balance read",
        "GET /v1/members/{memberId}/ledger read",
        "GET /v1/members/{memberId}/referrals read",
        "GET /v1/members/{memberId}/rewards read",
        "GET /v1/members/{memberId}/tier read",
        "POST /v1/members/{memberId}/rewards/{rewardId}/redeem redeem",
        "POST /v1/quote read",
      ].sort(),
    );
  });

  it("documents nothing that is not served", async () => {
    const doc = await fetchDocument();
    const served = new Set(servedRoutes().map((r) => `${r.method} ${r.path}`));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => `${m} ${path}`),
    );
    expect(documented.filter((d) => !served.has(d))).toEqual([]);
  });

  it("the production app serves no test or bench seam (they live in test/support and scripts/bench)", () => {
    expect(createApp().routes.filter((r) => r.path.startsWith("/__"))).toEqual([]);
  });

  it("is cacheable and readable cross-origin (for tooling)", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("API reference and dashboard page", () => {
  it("/docs serves the Scalar reference over /openapi.json from this origin only, under a strict CSP", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const csp = Object.fromEntries(
      res.headers
        .get("content-security-policy")!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp["default-src"]).toEqual(["'none'"]);
    expect(csp["script-src"]).toEqual(["'self'"]);
    expect(csp["connect-src"]).toEqual(["'self'"]);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    // Only styles may be inline (Scalar writes them at runtime); nothing else is allowed anywhere.
    expect(csp["style-src"]).toEqual(["'self'", "'unsafe-inline'"]);
    expect(Object.keys(csp).sort()).toEqual(
      ["base-uri", "connect-src", "default-src", "font-src", "form-action", "frame-ancestors", "img-src", "script-src", "style-src"].sort(),
    );
    expect(
      Object.values(csp)
        .flat()
        .filter((v) => !["'self'", "'none'", "data:"].includes(v)),
    ).toEqual(["'unsafe-inline'"]);
    const html = String(res.body);
    // Nothing from elsewhere: no absolute or protocol-relative URL at all.
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9]/i);
    // No inline script: every script is an empty element with a same-origin src.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[2].trim())).toEqual(["", ""]);
    const srcs = scripts.map((m) => /src="([^"]+)"/.exec(m[1])?.[1] ?? "");
    expect(srcs.map((u) => u.split("?")[0])).toEqual(["/docs/assets/scalar.js", "/docs/assets/docs.js"]);

    for (const url of srcs) {
      const asset = await call("GET", url);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
    expect(String((await call("GET", "/docs/assets/scalar.js")).body)).toContain("createApiReference");
    expect(String((await call("GET", "/docs/assets/docs.js")).body)).toContain('url: "/openapi.json"');
    expect(srcs[0]).toBe(`/docs/assets/scalar.js?v=${packageJson.devDependencies["@scalar/api-reference"]}`);
    expect((await call("GET", "/docs/assets/nope.js")).body.error.code).toBe("not_found");
  });

  it("/admin serves the page with a strict CSP and versioned, long-cached assets", async () => {
    const res = await call("GET", "/admin");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = String(res.body);
    expect(html).toContain('name="viewport"');
    const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.map((a) => a.split("?")[0]).sort()).toEqual(["/admin/assets/app.css", "/admin/assets/app.js", "/admin/assets/chart.js"]);
    for (const url of assets) {
      const asset = await call("GET", url);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(asset.headers.get("content-type")).toMatch(url.includes(".css") ? /text\/css/ : /javascript/);
    }
    expect(String((await call("GET", "/admin/assets/chart.js")).body)).toMatch(
      /^\/\*!\n \* Chart\.js v4\.5\.1[\s\S]*Released under the MIT License/,
    );
    expect((await call("GET", "/admin/assets/nope.js")).body.error.code).toBe("not_found");
  });
});

describe("GET /v1/analytics/dashboard", () => {
  it("aggregates the caller's program only: members, stages, tiers, liability, points", async () => {
    const p = await newProgram({ pointCostPer1000: 10_000 });
    const other = await newProgram();
    await newMember(other);
    const a = await newMember(p);
    const b = await newMember(p);
    await newMember(p);
    expect((await accrue(p, a.id, 10_000)).status).toBe(201);
    expect((await accrue(p, b.id, 2_550)).status).toBe(201);

    const res = await call("GET", "/v1/analytics/dashboard", { key: p.keys.admin });
    expect(res.status).toBe(200);
    const o = res.body;
    expect(o.program).toMatchObject({ id: p.programId, currency: "USD", pointCostPer1000: 10_000 });
    expect(o.members).toMatchObject({ total: 3, active: 3, erased: 0, newLast30d: 3, purchasers: 2 });
    // 1 point per 1.00: 100 + 25 points outstanding, costing 10 minor units each.
    expect(o.liability).toEqual({
      pointsOutstanding: 125,
      pointsPending: 0,
      pointsAvailable: 125,
      pointsDebt: 0,
      moneyMinor: 1_250,
      currency: "USD",
    });
    expect(o.points).toEqual({ earned: 125, redeemed: 0 });
    expect(o.stages.map((s: { stage: string }) => s.stage)).toEqual(["new", "active", "dormant", "at_risk", "churned"]);
    expect(o.stages.reduce((n: number, s: { members: number }) => n + s.members, 0)).toBe(3);
    expect(o.tiers).toEqual([{ tierId: null, name: "No tier", rank: null, members: 3 }]);
    expect(o.churnRisk.buckets).toHaveLength(10);
    expect(o.churnRisk.scored).toBe(0);
    expect(o.clv.top).toEqual([]);
    expect(o).toMatchObject({ segments: [], kpiSnapshots: [], campaigns: [], experiments: [] });
  });

  it("needs an admin key", async () => {
    const p = await newProgram();
    expect((await call("GET", "/v1/analytics/dashboard")).status).toBe(401);
    const res = await call("GET", "/v1/analytics/dashboard", { key: p.keys.storefront });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect((await call("GET", "/v1/analytics/dashboard?days=0", { key: p.keys.admin })).body.error.code).toBe("invalid_request");
  });
});
