import { defineRoute } from "../route";
import { page } from "./assets";

/**
 * Scripts from this origin only (no CDN, no inline script, no eval) and requests to this origin
 * only (the OpenAPI document and "try it" calls). Styles may be inline: Scalar (Vue) writes
 * style attributes and <style> elements at runtime (its theme, its toasts) that a nonce cannot
 * cover. Inline CSS cannot run script; the page shows only this deployment's own OpenAPI document.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Documented in the OpenAPI document, though it serves HTML rather than JSON. */
export const docsRoute = defineRoute(
  {
    operationId: "system.docs",
    principals: "public",
    method: "get",
    path: "/docs",
    tags: ["System"],
    summary: "Interactive API reference (Scalar) over /openapi.json",
    description:
      "No key needed. Paste an API key under Authentication to try requests against this deployment. Everything the page loads is served by this deployment (no CDN), under a strict Content-Security-Policy.",
    responses: {
      200: { description: "The reference page", content: { "text/html": { schema: { type: "string" }, example: "<!doctype html>…" } } },
    },
  },
  (c) => {
    c.header("content-security-policy", CONTENT_SECURITY_POLICY);
    c.header("cache-control", "no-cache");
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(page) as never;
  },
);
