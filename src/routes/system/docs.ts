import { Scalar } from "@scalar/hono-api-reference";
import { defineRoute } from "../route";

const reference = Scalar({ url: "/openapi.json", pageTitle: "Loyalty Edge API reference" });

/** Documented in the OpenAPI document, though it serves HTML rather than JSON. */
export const docsRoute = defineRoute(
  {
    operationId: "getApiReference",
    principals: "public",
    method: "get",
    path: "/docs",
    tags: ["System"],
    summary: "Interactive API reference (Scalar) over /openapi.json",
    description:
      "No key needed. Paste an API key under Authentication to try requests against this deployment. The page loads Scalar's script from its CDN.",
    responses: {
      200: { description: "The reference page", content: { "text/html": { schema: { type: "string" }, example: "<!doctype html>…" } } },
    },
  },
  // Scalar is plain Hono middleware: it answers the page itself and never calls next.
  (c) => reference(c as never, async () => {}) as never,
);
