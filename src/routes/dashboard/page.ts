import type { Context } from "hono";
import type { App, AppBindings } from "../../lib/context";
import { page } from "./assets";

// The page holds no data: it asks for an admin key and reads everything through the API.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const route = { method: "get", path: "/admin" } as const;

export const register = (app: App) => {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/admin",
    tags: ["System"],
    summary: "Admin dashboard (HTML page)",
    description:
      "No key needed to load the page; it asks for an admin key (kept in sessionStorage for the tab) and reads KPIs, tiers, lifecycle stages, churn risk, CLV, segments, campaigns and experiments through the admin API.",
    responses: {
      200: { description: "The dashboard page", content: { "text/html": { schema: { type: "string" }, example: "<!doctype html>…" } } },
    },
  });
  const serve = (c: Context<AppBindings>) => {
    c.header("content-security-policy", CONTENT_SECURITY_POLICY);
    c.header("cache-control", "no-cache");
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(page);
  };
  app.get("/admin", serve);
  return app.get("/admin/", serve);
};
