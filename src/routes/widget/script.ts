import { notFound } from "../../lib/errors";
import { secretsKeyRequired } from "../../lib/secret-box";
import { defineRoute } from "../route";
import { staticAssetRoute } from "../static-assets";
import { assets, demoPage, widgetScript } from "./assets";

export const widgetScriptRoute = defineRoute(
  {
    operationId: "system.widget",
    principals: "public",
    // A script, not an API operation (like the pages' assets); described in the Widget tag and the README.
    hide: true,
    method: "get",
    path: "/widget.js",
    tags: ["Widget"],
    summary: "The embeddable member panel: <loyalty-panel> web component",
    description:
      'Include https://<api>/widget.js as a deferred script and place `<loyalty-panel program="prg_…" token-endpoint="/my/loyalty-token" lang="zh-TW">`. The element POSTs to the shop\'s token endpoint (same origin, with its cookies) for `{ token, expiresAt }` (a member token from POST /v1/members/{memberId}/tokens) or `{ assertion, expiresAt }` (signed with the widget secret), refreshes it a minute before expiry, and shows balance, tier progress, expiring points, rewards with redeem, the referral link and recent activity; with no token, a join call to action. Shadow DOM; themed with --loyalty-accent, --loyalty-bg, --loyalty-fg, --loyalty-muted, --loyalty-radius, --loyalty-font. Calls from the shop\'s origin need it in the program\'s allowed origins.',
    responses: {
      200: {
        description: "The script",
        content: { "text/javascript": { schema: { type: "string" as const }, example: "(() => {…})();" } },
      },
    },
  },
  (c) =>
    // Shops embed this URL unversioned: cached briefly, so a deploy reaches them within minutes.
    c.body(widgetScript.body, 200, {
      "content-type": widgetScript.type,
      "cache-control": "public, max-age=300",
      "x-content-type-options": "nosniff",
      "access-control-allow-origin": "*",
      etag: `"${widgetScript.version}"`,
    }) as never,
);

export const widgetAssetRoute = staticAssetRoute({
  operationId: "system.widget.asset",
  path: "/widget/assets/{file}",
  summary: "A static file of the widget demo page",
  assets,
});

// The demo signs in with a storefront key typed into the page: same origin only, nothing inline.
const DEMO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const widgetDemoRoute = defineRoute(
  {
    operationId: "system.widget.demo",
    principals: "public",
    hide: true,
    method: "get",
    path: "/widget/demo",
    summary: "A demo shop page embedding the widget (local database only)",
    responses: { 200: { description: "The page" } },
  },
  (c) => {
    // Development only: a deployment on a remote database answers as if the page did not exist.
    if (secretsKeyRequired(c.env)) throw notFound("Page");
    c.header("content-security-policy", DEMO_CSP);
    c.header("cache-control", "no-cache");
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(demoPage) as never;
  },
);
