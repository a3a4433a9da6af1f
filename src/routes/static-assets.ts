import { z } from "@hono/zod-openapi";
import { AppError } from "../lib/errors";
import { defineRoute } from "./route";

/** A static file the Worker serves itself (no asset binding needed). */
export type Asset = { body: string; type: string; version: string };

/** FNV-1a, enough to bust caches when a deploy changes an asset. */
export function contentHash(text: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * `GET <prefix>/{file}` for a page's static files, not in the OpenAPI document. URLs carry a
 * version (?v=), so a year of caching is safe.
 */
export function staticAssetRoute(spec: { operationId: string; path: `/${string}/{file}`; summary: string; assets: Record<string, Asset> }) {
  return defineRoute(
    {
      operationId: spec.operationId,
      principals: "public",
      hide: true,
      method: "get",
      path: spec.path,
      summary: spec.summary,
      request: { params: z.object({ file: z.string() }) },
      responses: { 200: { description: "The file" } },
    },
    (c) => {
      const { file } = c.req.valid("param");
      const asset = Object.hasOwn(spec.assets, file) ? spec.assets[file] : undefined;
      if (!asset) throw new AppError("not_found", `No asset ${file}`);
      return c.body(asset.body, 200, {
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
      }) as never;
    },
  );
}
