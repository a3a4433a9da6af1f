import { createRoute, type RouteConfig, type RouteHandler, type z } from "@hono/zod-openapi";
import type { App, AppBindings, MemberScope, PrincipalOf, Principals, Scope, StaffRole } from "../lib/context";
import { bearerSecurity } from "../lib/openapi";
import { admit } from "../middleware/auth";
import { assertMemberVisible } from "../services/partner/scoping";

/** Everything a route declares: its OpenAPI operation (security is derived), its id and who may call it. */
export type RouteDefinition = Omit<RouteConfig, "security" | "operationId"> & {
  /**
   * Stable and unique, dotted resource-style (`members.get`, `members.accruals.create`): SDK
   * generators turn it into the call's name and namespace. Changing one is a breaking change.
   */
  operationId: string;
  principals: Principals;
  /** Named schemas the operation refers to by `$ref` without validating with them. */
  components?: { schemas: Record<string, z.ZodType> };
};

/** Anything the app can mount: a method and path, and how it mounts itself. */
export type RouteModule = { route: { method: string; path: string }; register: (app: App) => unknown };

/** A route made by `defineRoute`: its operation as documented (typed, for the client), its id and who may call it. */
export type DefinedRoute<D extends RouteDefinition = RouteDefinition> = RouteModule & {
  route: D;
  operationId: string;
  principals: Principals;
};

type HandlerContext<D extends RouteDefinition> = Parameters<RouteHandler<D, AppBindings>>[0];
type HandlerResult<D extends RouteDefinition> = ReturnType<RouteHandler<D, AppBindings>>;

/** "Scope: admin." / "Scopes: storefront, admin.": the sentence the description starts with. */
const scopeSentence = (scopes: readonly Scope[]) => `${scopes.length === 1 ? "Scope" : "Scopes"}: ${scopes.join(", ")}.`;

const OPERATOR_SENTENCE = "Operator only: the deployment's OPERATOR_TOKEN, never a program's API key.";

/** What the description says of member tokens, for routes that admit them. */
const memberSentence = (scope: MemberScope) => `Member token (scope ${scope}): a browser for its own member only; any other member is 404.`;

/** Configuration a marketer changes; everything else an admin route writes needs the admin role. */
const MARKETER_TAGS = ["Campaigns", "Segments", "Rewards", "Experiments", "Budgets", "Earning rules"];

/**
 * The least staff role an admin-scoped route admits, unless it says (`staff`, or null for none):
 * reading needs viewer, changing marketing configuration marketer, anything else admin.
 */
function staffRoleOf(definition: RouteDefinition): StaffRole | null {
  const { principals } = definition;
  if (principals === "public" || !principals.scopes?.includes("admin")) return null;
  if (principals.staff !== undefined) return principals.staff;
  if (definition.method === "get") return "viewer";
  return (definition.tags ?? []).some((t) => MARKETER_TAGS.includes(t)) ? "marketer" : "admin";
}

/** What the OpenAPI operation says of who may call it: security, `x-scopes`/`x-operator` and the first sentence. */
function documentedPrincipals(principals: Principals, description: string | undefined) {
  // No key: an explicitly empty security requirement, so tools do not assume one.
  if (principals === "public") return { description, security: [] };
  const scopes = principals.scopes ?? [];
  const sentences = [
    scopes.length > 0 ? scopeSentence(scopes) : principals.operator ? OPERATOR_SENTENCE : undefined,
    scopes.length > 0 && principals.operator ? "Also the operator." : undefined,
    principals.member ? memberSentence(principals.member) : undefined,
    description,
  ];
  return {
    description: sentences.filter(Boolean).join(" "),
    security: bearerSecurity,
    ...(scopes.length > 0 ? { "x-scopes": [...scopes] } : {}),
    ...(principals.operator ? { "x-operator": true } : {}),
    ...(principals.staff ? { "x-staff-role": principals.staff } : {}),
    ...(principals.member ? { "x-member-scope": principals.member } : {}),
  };
}

/**
 * Declare a route once. The principals it accepts become the operation's security, its
 * `x-scopes` (`x-operator`, `x-staff-role`) and the first sentence of its description, and are checked before the handler
 * runs (after request validation, so a malformed request is a 400 whoever sends it); the
 * handler receives the principal, and the app it is mounted on.
 */
export function defineRoute<D extends RouteDefinition>(
  definition: D,
  handler: (c: HandlerContext<D>, principal: PrincipalOf<D["principals"]>, app: App) => HandlerResult<D>,
): DefinedRoute<D> {
  const { principals: declared, components, description, ...operation } = definition;
  if (declared !== "public" && !declared.operator && !declared.member && (declared.scopes?.length ?? 0) === 0)
    throw new Error(`${definition.operationId}: no scope may call it`);
  // Admin routes admit staff from the least role derived for them (staffRoleOf).
  const principals = (declared === "public" ? declared : { ...declared, staff: staffRoleOf(definition) }) as D["principals"];
  const route = createRoute({ ...operation, ...documentedPrincipals(principals, description) });
  // Every read of one member is limited, for a partner key, to the members its partner touched
  // (writes are what touch them); derived here so no member route can forget it.
  const readsMember = definition.method === "get" && definition.path.includes("{memberId}");
  return {
    route: route as unknown as D,
    operationId: definition.operationId,
    principals,
    register: (app: App) => {
      for (const [name, schema] of Object.entries(components?.schemas ?? {})) app.openAPIRegistry.register(name, schema);
      const run = async (c: HandlerContext<D>) => {
        const principal = await admit(c as never, principals as D["principals"]);
        if (readsMember) await assertMemberVisible(c.var.ctx, c.var.principal, c.req.param("memberId" as never) as string);
        return handler(c, principal, app);
      };
      return app.openapi(route, run as never);
    },
  };
}
