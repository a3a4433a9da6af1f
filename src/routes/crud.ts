import { z } from "@hono/zod-openapi";
import type { Principals, ServiceContext } from "../lib/context";
import { errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { defineRoute, type RouteModule } from "./route";

type Id = { programId: string; id: string };

/**
 * Admin CRUD for a program-owned configuration resource (rules, tiers, …): five routes with
 * one shape — list, get, create, patch (merged and re-validated as a whole), delete — each
 * audited by its service. Scope: admin (reads also storefront and partner where `publicRead`).
 */
export function adminCrudRoutes<C extends z.ZodType, V extends z.ZodType>(spec: {
  tag: string;
  path: string;
  noun: string;
  idParam: string;
  /** The five operations' ids, in the order list, get, create, update, remove. */
  operationIds: { list: string; get: string; create: string; update: string; remove: string };
  createSchema: C;
  viewSchema: V;
  example: unknown;
  /** What the create operation's description says before "Audited." (the definition's shape). */
  createDescription?: string;
  publicRead?: boolean;
  list: (ctx: ServiceContext, programId: string) => Promise<unknown[]>;
  get: (ctx: ServiceContext, input: Id) => Promise<unknown>;
  create: (ctx: ServiceContext, programId: string, body: z.infer<C>) => Promise<unknown>;
  update: (ctx: ServiceContext, input: Id & { patch: Record<string, unknown> }) => Promise<unknown>;
  remove: (ctx: ServiceContext, input: Id) => Promise<void>;
}): RouteModule[] {
  const readScopes: Principals = { scopes: spec.publicRead ? ["admin", "storefront", "partner"] : ["admin"] };
  const admin: Principals = { scopes: ["admin"] };
  const params = z.object({ [spec.idParam]: z.string().min(1).max(64) });
  const itemPath = `${spec.path}/{${spec.idParam}}`;
  const tags = [spec.tag];
  const idOf = (p: Record<string, string>) => p[spec.idParam];
  // The handlers' responses are typed by `V`, which the compiler cannot resolve here: they are cast.
  return [
    defineRoute(
      {
        operationId: spec.operationIds.list,
        principals: readScopes,
        tags,
        method: "get",
        path: spec.path,
        summary: `List ${spec.noun}s`,
        responses: { 200: jsonResponse(z.object({ data: z.array(spec.viewSchema) }), `The program's ${spec.noun}s`), ...errorResponses() },
      },
      (c, { programId }) => spec.list(c.var.ctx, programId).then((data) => c.json({ data }, 200)) as never,
    ),
    defineRoute(
      {
        operationId: spec.operationIds.get,
        principals: readScopes,
        tags,
        method: "get",
        path: itemPath,
        summary: `Get a ${spec.noun}`,
        request: { params },
        responses: { 200: jsonResponse(spec.viewSchema, `The ${spec.noun}`), ...errorResponses(404) },
      },
      (c, { programId }) => spec.get(c.var.ctx, { programId, id: idOf(c.req.valid("param")) }).then((view) => c.json(view, 200)) as never,
    ),
    defineRoute(
      {
        operationId: spec.operationIds.create,
        principals: admin,
        tags,
        method: "post",
        path: spec.path,
        summary: `Create a ${spec.noun}`,
        description: spec.createDescription ? `${spec.createDescription} Audited.` : "Audited.",
        request: { body: jsonBody(spec.createSchema, spec.example) },
        responses: { 201: jsonResponse(spec.viewSchema, `The new ${spec.noun}`), ...errorResponses() },
      },
      (c, { programId }) =>
        spec
          .create(c.var.ctx, programId, (c.req.valid as (t: string) => unknown)("json") as z.infer<C>)
          .then((view) => c.json(view, 201)) as never,
    ),
    defineRoute(
      {
        operationId: spec.operationIds.update,
        principals: admin,
        tags,
        method: "patch",
        path: itemPath,
        summary: `Update a ${spec.noun}`,
        description: "Fields merge into the stored definition, which is validated as a whole. Audited.",
        request: { params, body: jsonBody(z.record(z.string(), z.unknown()).openapi({ example: { name: "Renamed" } })) },
        responses: { 200: jsonResponse(spec.viewSchema, `The updated ${spec.noun}`), ...errorResponses(404) },
      },
      (c, { programId }) =>
        spec
          .update(c.var.ctx, { programId, id: idOf(c.req.valid("param")), patch: c.req.valid("json") })
          .then((view) => c.json(view, 200)) as never,
    ),
    defineRoute(
      {
        operationId: spec.operationIds.remove,
        principals: admin,
        tags,
        method: "delete",
        path: itemPath,
        summary: `Delete a ${spec.noun}`,
        description: "Audited.",
        request: { params },
        responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
      },
      (c, { programId }) => spec.remove(c.var.ctx, { programId, id: idOf(c.req.valid("param")) }).then(() => c.body(null, 204)) as never,
    ),
  ];
}
