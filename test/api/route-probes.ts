import { apiRoutes } from "../../src/routes";
import { call, db, type TestProgram, uniqueKey } from "./helpers";

/**
 * Every registered /v1 route as a probe: its documented scopes (the operation's `x-scopes`; none
 * on an operator-only route, `x-operator`) and example request from the OpenAPI document. Used by the scope matrix (access.test.ts)
 * and the cross-tenant probes (tenant-isolation.test.ts).
 */
export type Scope = "admin" | "storefront" | "partner";
export const SCOPES: Scope[] = ["admin", "storefront", "partner"];

type Param = { name: string; in: string; required?: boolean; example?: unknown; schema?: { example?: unknown } };
export type Operation = {
  method: string;
  path: string;
  scopes: Scope[] | null;
  operator: boolean;
  /** The member token scope the route admits (x-member-scope), or null. */
  member: string | null;
  params: Param[];
  body: unknown;
  hasBody: boolean;
};

/** Path parameters that name a program's resource (as opposed to a period, a channel name, …). */
export const isIdParam = (name: string) => /Id$/.test(name) || name === "code";

export async function operations(): Promise<Operation[]> {
  const doc = (await call("GET", "/openapi.json")).body;
  const schemaOf = (s: { $ref?: string } | undefined) => (s?.$ref ? doc.components.schemas[s.$ref.split("/").pop()!] : s);
  return apiRoutes
    .map((m) => m.route as { method: string; path: string })
    .filter((r) => r.path.startsWith("/v1/"))
    .map((r) => {
      const op = doc.paths?.[r.path]?.[r.method] ?? {};
      const documented = op["x-scopes"] as unknown;
      const operator = op["x-operator"] === true;
      const member = typeof op["x-member-scope"] === "string" ? (op["x-member-scope"] as string) : null;
      const scopes = Array.isArray(documented) ? SCOPES.filter((s) => documented.includes(s)) : operator || member ? [] : null;
      const content = op.requestBody?.content?.["application/json"];
      const body = content ? (content.example ?? schemaOf(content.schema)?.example ?? {}) : undefined;
      return {
        method: r.method.toUpperCase(),
        path: r.path,
        scopes,
        operator,
        member,
        params: (op.parameters ?? []) as Param[],
        body,
        hasBody: !!content,
      };
    });
}

const exampleOf = (p: Param) => p.example ?? p.schema?.example;

/** Call `op` with `ids` in its path and query (examples elsewhere); writes get an Idempotency-Key starting with `keyPrefix`. */
export function request(
  op: Operation,
  ids: Record<string, string>,
  key: string,
  overrides: Record<string, unknown> = {},
  keyPrefix = "probe",
) {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(ids[name] ?? String(exampleOf(op.params.find((p) => p.name === name) ?? ({} as Param)) ?? "zz_probe")),
  );
  const query = op.params
    .filter((p) => p.in === "query" && (p.required || exampleOf(p) !== undefined))
    .map((p) => `${p.name}=${encodeURIComponent(String(ids[p.name] ?? exampleOf(p) ?? "x"))}`)
    .join("&");
  const needsIdempotency = op.params.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key");
  return call(op.method, `${path}${query ? `?${query}` : ""}`, {
    key,
    body: op.hasBody ? (overrides[op.path] ?? op.body) : undefined,
    idempotencyKey: needsIdempotency ? uniqueKey(keyPrefix) : undefined,
  });
}

/** Lift the per-key limit for programs that make hundreds of calls in a few seconds. */
export async function unlimited(p: TestProgram) {
  await db().$client.execute({ sql: "UPDATE api_keys SET rate_limit_per_minute = 1000000 WHERE program_id = ?", args: [p.programId] });
}
