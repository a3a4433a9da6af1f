import type { Context } from "hono";
import type { AppBindings } from "../../lib/context";
import { defineRoute } from "../route";
import { page } from "./assets";

// The page holds no data: it asks for an admin key and reads everything through the API.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const servePage = (c: Context<AppBindings>) => {
  c.header("content-security-policy", CONTENT_SECURITY_POLICY);
  c.header("cache-control", "no-cache");
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "no-referrer");
  return c.html(page);
};

const pageResponses = {
  200: {
    description: "The dashboard page",
    content: { "text/html": { schema: { type: "string" as const }, example: "<!doctype html>…" } },
  },
};

export const dashboardPageRoute = defineRoute(
  {
    operationId: "system.dashboard",
    principals: "public",
    method: "get",
    path: "/admin",
    tags: ["System"],
    summary: "Admin dashboard (HTML page)",
    description:
      "No key needed to load the page; it asks for an admin key (kept in sessionStorage for the tab) and reads KPIs, tiers, lifecycle stages, churn risk, CLV, segments, campaigns and experiments through the admin API.",
    responses: pageResponses,
  },
  (c) => servePage(c) as never,
);

/** The same page at /admin/ (not in the document). */
export const dashboardPageSlashRoute = defineRoute(
  {
    operationId: "system.dashboard.slash",
    principals: "public",
    hide: true,
    method: "get",
    path: "/admin/",
    summary: "Admin dashboard (HTML page)",
    responses: pageResponses,
  },
  (c) => servePage(c) as never,
);
