import { z } from "@hono/zod-openapi";
import { API_CHANGELOG, changelogMarkdown, LATEST_API_VERSION } from "../../lib/api-version";
import type { App } from "../../lib/context";
import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../route";
import { webhookOperations } from "../webhooks/events";

/** Tag descriptions, in reading order; a tag a feature uses that is not listed here still appears, after these. */
const tagDescriptions: Record<string, string> = {
  System: "Health, this OpenAPI document, the interactive reference and the admin dashboard. No key needed.",
  Members: "Registration (idempotent on the storefront's customer id), profile, consent, tags, erasure.",
  Points:
    "The points ledger: accrue on purchase, redeem at checkout, adjust, refund, balance and history, and the quote for a cart. Every write takes an Idempotency-Key.",
  "Earning rules":
    "Earning rules: trigger, conditions, effect, priority, stacking and budget caps; the quote evaluates them without writing.",
  Tiers: "Ordered tiers with qualification windows, benefits, grace periods and progress to the next tier.",
  Rewards: "The reward catalog and redemption into unique coupon codes.",
  Coupons: "Coupon validation and consumption at checkout.",
  Referrals: "Referral codes and rewards when a referee's first qualifying purchase lands.",
  Segments: "RFM scores, value segments and custom rule-based segments, recomputed by cron.",
  Analytics: "Churn risk, CLV (BG/NBD + Gamma-Gamma), lifecycle stages and the dashboard aggregate.",
  KPIs: "Program KPIs and their daily snapshots.",
  Campaigns: "Automated and broadcast campaigns: triggers, actions, budgets and ROI.",
  Experiments: "A/B experiments on campaign variants with a holdout: assignment, results, stop rule.",
  Budgets: "Program budgets, acquisition spend and CAC.",
  Feedback: "NPS and survey responses attached to members.",
  Webhooks: "Outbound webhook subscriptions and their signed, retried deliveries.",
  Partners: "Signed inbound partner events: sales, refunds and activities.",
  Keys: "Scoped API keys (admin, storefront, partner): create, list, revoke.",
  Operator:
    "The deployment's operator (OPERATOR_TOKEN): programs (tenants) created, suspended, resumed and deleted, and their usage for billing.",
  Settlement: "What each partner owes the program, or is owed, per month: points issued on its sales and redeemed at it, in money.",
  Programs: "Program settings: time zone, earn rate, expiry, origins, locale, configuration version.",
  Imports: "Migration from another system: opening balances and past purchases, written member by member through each member's ledger.",
  Exports: "Streamed exports (NDJSON or CSV) for warehouses, paged by cursor.",
  Audit: "The audit log of admin writes.",
  Jobs: "Runs of the nightly jobs, fanned out per program and shard over a queue: progress, rows changed and errors.",
};

const SECURITY_DESCRIPTION =
  "An API key in the Authorization header: `Authorization: Bearer le_…`. Keys are scoped (storefront, partner, admin); each route lists the scopes it accepts.";

const API_DESCRIPTION = `Loyalty Edge: a membership and loyalty engine at the edge.

**Auth** — send \`Authorization: Bearer <key>\`. A key belongs to one program and has one scope: \`storefront\` (balance, accrual, redemption, quote, coupons), \`partner\` (sales and refunds) or \`admin\` (everything, including configuration and analytics). Another program's resource is a 404.

**Errors** — every error is JSON \`{"error": {"code", "message", "requestId", "details?"}}\` with a code from a closed set (invalid_request, unauthorized, forbidden, not_found, idempotency_conflict, insufficient_points, …). Validation failures are 400 with the failing fields in \`details.fields\`.

**Idempotency** — every points write, and feedback, takes an \`Idempotency-Key\` header. A retry with the same key and body returns the original result; the same key with a different body is 409 idempotency_conflict. Your keys never collide with the keys the engine uses for its own writes (partner events, referrals, campaigns).

**Pagination** — list endpoints take \`limit\` (1–500, default 50) and \`cursor\`; pass back \`nextCursor\` until it is null.

**Money and time** — amounts are integer minor units (cents) in the program currency, points are integers, times are UTC ISO-8601; day-valued fields (KPI days, budget months, birthdays) are local dates in the program's time zone (\`GET /v1/program\`). A reported \`occurredAt\` may be at most 5 minutes ahead of the server clock and, except with an admin key, no older than the program's back-dating window (default 30 days).

**Versions** — pin the version your client is coded against with \`Loyalty-Version: ${LATEST_API_VERSION}\`; without it a request gets its key's version (the latest when the key was created, as shown in \`GET /v1/keys\`), and every response says the version it was rendered in (\`Loyalty-Version\`). An unknown version is 400 unknown_api_version. Webhook payloads carry their subscription's \`apiVersion\`. This document describes ${LATEST_API_VERSION}; breaking changes:

${changelogMarkdown()}`;

const AnyObject = z.record(z.string(), z.unknown());

export const openApiRoute = defineRoute(
  {
    operationId: "system.openapi",
    principals: "public",
    method: "get",
    path: "/openapi.json",
    tags: ["System"],
    summary: "This OpenAPI 3.1 document",
    description: "No key needed. Generated from the route definitions, so it always matches what the API validates.",
    responses: {
      200: jsonResponse(
        AnyObject.openapi({ example: { openapi: "3.1.0", info: { title: "Loyalty Edge API", version: "0.1.0" }, paths: {} } }),
        "The OpenAPI document",
      ),
    },
  },
  (c, _principal, app) => {
    // `servers` follows the host the document was fetched from, so "Try it" in /docs calls this deployment.
    const doc = openApiDocument(app);
    c.header("cache-control", "public, max-age=300");
    c.header("access-control-allow-origin", "*");
    return c.json(
      { ...doc, servers: [{ url: new URL(c.req.url).origin, description: "This deployment" }] } as Record<string, unknown>,
      200,
    );
  },
);

type Document = ReturnType<App["getOpenAPI31Document"]>;

// The document depends only on the registered routes, so each app builds it once.
const built = new WeakMap<App, Document>();

/** The OpenAPI 3.1 document of every route registered on `app`, with tags sorted and described. */
function openApiDocument(app: App): Document {
  const cached = built.get(app);
  if (cached) return cached;
  // The scheme every keyed route's `security` names (see defineRoute).
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: SECURITY_DESCRIPTION });
  // What the API sends: one entry per outbound event type, with its payload schema and an example.
  for (const operation of webhookOperations) app.openAPIRegistry.registerWebhook(operation);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "Loyalty Edge API", version: "0.1.0", description: API_DESCRIPTION, "x-api-versions": API_CHANGELOG } as never,
  });
  const used = new Set<string>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { tags?: string[] }>)) for (const t of op?.tags ?? []) used.add(t);
  }
  const known = Object.keys(tagDescriptions);
  const order = (t: string) => (known.includes(t) ? known.indexOf(t) : known.length);
  doc.tags = [...used]
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((name) => ({ name, description: tagDescriptions[name] ?? `${name} endpoints.` }));
  built.set(app, doc);
  return doc;
}
