import { z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { defineRoute } from "../route";
import { assets } from "./assets";

/** Not in the OpenAPI document: static files of the /docs page. */
export const docsAssetRoute = defineRoute(
  {
    operationId: "system.docs.asset",
    principals: "public",
    hide: true,
    method: "get",
    path: "/docs/assets/{file}",
    summary: "A static file of the API reference page",
    request: { params: z.object({ file: z.string() }) },
    responses: { 200: { description: "The file" } },
  },
  (c) => {
    const { file } = c.req.valid("param");
    const asset = assets[file];
    if (!asset) throw new AppError("not_found", `No asset ${file}`);
    // URLs carry a version (?v=), so a year of caching is safe.
    return c.body(asset.body, 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    }) as never;
  },
);
