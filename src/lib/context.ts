import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "../db/client";
import type { Env } from "../env";
import type { ApiVersion } from "./api-version";

export type Scope = "admin" | "storefront" | "partner";
/** A staff member's role in a program, each including the ones before it. */
export type StaffRole = "viewer" | "marketer" | "admin";
/** What a member token lets a browser do on its member's routes. */
export type MemberScope = "read" | "redeem";
/**
 * An authenticated caller acting in one program: an API key (its scope and own rate limit; null:
 * the deployment default), or a staff member signed in through Cloudflare Access, who acts with
 * admin scope on the routes their role opens (`staff`; `keyId` is then a pseudonymous id of the
 * person, for rate limits and logs).
 */
export type Principal = {
  keyId: string;
  programId: string;
  scope: Scope;
  rateLimitPerMinute?: number | null;
  /** API keys: the version requests get without a Loyalty-Version header (src/lib/api-version.ts). */
  apiVersion?: ApiVersion;
  staff?: { email: string; role: StaffRole };
  /**
   * A browser acting for one member with a member token or shop-signed assertion: it acts with
   * storefront scope, only on routes that admit `member`, only for this member.
   */
  member?: { memberId: string; scopes: MemberScope[] };
  /**
   * Partner keys only: the partner the key acts for, and whether it reads only the members and
   * orders that partner touched (`touched`) or the whole program's (`program`, coalitions).
   */
  partner?: { id: string; memberAccess: "touched" | "program" };
};

/** The deployment's operator (the OPERATOR_TOKEN secret): sees every tenant, owns none. */
export type OperatorPrincipal = { kind: "operator" };

/**
 * Who may call a route: "public" (no credentials), or the principals it accepts: an API key with
 * one of `scopes`, staff with at least the role `staff` (defineRoute derives it for admin routes),
 * the `operator`, and/or a browser with a member token (or shop-signed assertion) carrying the
 * `member` scope, for the member the route's `{memberId}` names (src/middleware/auth.ts).
 */
export type Principals =
  | "public"
  | { scopes: readonly Scope[]; operator?: boolean; staff?: StaffRole | null; member?: MemberScope }
  | { scopes?: never; operator: true; staff?: never; member?: never }
  | { scopes?: never; operator?: never; staff?: never; member: MemberScope };

/** What a route's handler is given for its `Principals`: nothing on a public route. */
export type PrincipalOf<P extends Principals> = P extends "public"
  ? undefined
  :
      | (P extends { scopes: readonly Scope[] } ? Principal : never)
      | (P extends { operator: true } ? OperatorPrincipal : never)
      | (P extends { member: MemberScope } ? Principal : never);

/** What every domain service receives: `verb({ ctx, input })`. */
export type ServiceContext = { env: Env; db: Database; requestId: string; principal?: Principal };

export type AppBindings = {
  Bindings: Env;
  /** `errorCode`: the code of the error the request was answered with, for its log line. */
  Variables: { requestId: string; ctx: ServiceContext; principal?: Principal; errorCode?: string };
};

export type App = OpenAPIHono<AppBindings>;
