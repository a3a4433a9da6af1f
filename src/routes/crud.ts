import { createRoute, z } from "@hono/zod-openapi";
import type { App, ServiceContext } from "../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { authorize } from "../middleware/auth";
import type { RouteModule } from "./route";

type Id = { programId: string; id: string };

/**
 * Admin CRUD for a program-owned configuration resource (rules, tiers, …): five routes with
 * one shape — list, get, create, patch (merged and re-validated as a whole), delete — each
 * audited by its service. Scope: admin (reads also storefront where `publicRead`).
 */
export function adminCrudRoutes<C extends z.ZodType, V extends z.ZodType>(spec: {
  tag: string;
  path: string;
  noun: string;
  idParam: string;
  createSchema: C;
  viewSchema: V;
  example: unknown;
  publicRead?: boolean;
  list: (ctx: ServiceContext, programId: string) => Promise<unknown[]>;
  get: (ctx: ServiceContext, input: Id) => Promise<unknown>;
  create: (ctx: ServiceContext, programId: string, body: z.infer<C>) => Promise<unknown>;
  update: (ctx: ServiceContext, input: Id & { patch: Record<string, unknown> }) => Promise<unknown>;
  remove: (ctx: ServiceContext, input: Id) => Promise<void>;
}): RouteModule[] {
  const readScopes = spec.publicRead ? (["admin", "storefront", "partner"] as const) : (["admin"] as const);
  const params = z.object({ [spec.idParam]: z.string().min(1).max(64) });
  const itemPath = `${spec.path}/{${spec.idParam}}`;
  const sec = { tags: [spec.tag], security: bearerSecurity };
  const list = createRoute({
    ...sec,
    method: "get",
    path: spec.path,
    summary: `List ${spec.noun}s`,
    description: `Scopes: ${readScopes.join(", ")}.`,
    responses: { 200: jsonResponse(z.object({ data: z.array(spec.viewSchema) }), `The program's ${spec.noun}s`), ...errorResponses() },
  });
  const get = createRoute({
    ...sec,
    method: "get",
    path: itemPath,
    summary: `Get a ${spec.noun}`,
    description: `Scopes: ${readScopes.join(", ")}.`,
    request: { params },
    responses: { 200: jsonResponse(spec.viewSchema, `The ${spec.noun}`), ...errorResponses(404) },
  });
  const create = createRoute({
    ...sec,
    method: "post",
    path: spec.path,
    summary: `Create a ${spec.noun}`,
    description: "Scope: admin. Audited.",
    request: { body: jsonBody(spec.createSchema, spec.example) },
    responses: { 201: jsonResponse(spec.viewSchema, `The new ${spec.noun}`), ...errorResponses() },
  });
  const patch = createRoute({
    ...sec,
    method: "patch",
    path: itemPath,
    summary: `Update a ${spec.noun}`,
    description: "Scope: admin. Fields merge into the stored definition, which is validated as a whole. Audited.",
    request: { params, body: jsonBody(z.record(z.string(), z.unknown()).openapi({ example: { name: "Renamed" } })) },
    responses: { 200: jsonResponse(spec.viewSchema, `The updated ${spec.noun}`), ...errorResponses(404) },
  });
  const del = createRoute({
    ...sec,
    method: "delete",
    path: itemPath,
    summary: `Delete a ${spec.noun}`,
    description: "Scope: admin. Audited.",
    request: { params },
    responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
  });
  const idOf = (p: Record<string, string>) => p[spec.idParam];
  return [
    {
      route: list,
      register: (app: App) =>
        app.openapi(list, async (c) => {
          const { programId } = await authorize(c, readScopes);
          return c.json({ data: await spec.list(c.var.ctx, programId) } as never, 200);
        }),
    },
    {
      route: get,
      register: (app: App) =>
        app.openapi(get, async (c) => {
          const { programId } = await authorize(c, readScopes);
          return c.json((await spec.get(c.var.ctx, { programId, id: idOf(c.req.valid("param")) })) as never, 200);
        }),
    },
    {
      route: create,
      register: (app: App) =>
        app.openapi(create, async (c) => {
          const { programId } = await authorize(c, ["admin"]);
          return c.json(
            (await spec.create(c.var.ctx, programId, (c.req.valid as (t: string) => unknown)("json") as z.infer<C>)) as never,
            201,
          );
        }),
    },
    {
      route: patch,
      register: (app: App) =>
        app.openapi(patch, async (c) => {
          const { programId } = await authorize(c, ["admin"]);
          return c.json(
            (await spec.update(c.var.ctx, { programId, id: idOf(c.req.valid("param")), patch: c.req.valid("json") })) as never,
            200,
          );
        }),
    },
    {
      route: del,
      register: (app: App) =>
        app.openapi(del, async (c) => {
          const { programId } = await authorize(c, ["admin"]);
          await spec.remove(c.var.ctx, { programId, id: idOf(c.req.valid("param")) });
          return c.body(null, 204) as never;
        }),
    },
  ];
}
