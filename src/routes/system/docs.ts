import { Scalar } from "@scalar/hono-api-reference";
import type { App } from "../../lib/context";

/** Documented in the OpenAPI document, though it serves HTML rather than JSON. */
export const route = { method: "get", path: "/docs" } as const;

export const register = (app: App) => {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/docs",
    tags: ["System"],
    summary: "Interactive API reference (Scalar) over /openapi.json",
    description:
      "No key needed. Paste an API key under Authentication to try requests against this deployment. The page loads Scalar's script from its CDN.",
    responses: {
      200: { description: "The reference page", content: { "text/html": { schema: { type: "string" }, example: "<!doctype html>…" } } },
    },
  });
  return app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Loyalty Edge API reference" }));
};
