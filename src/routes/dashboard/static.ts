import type { App } from "../../lib/context";
import { AppError } from "../../lib/errors";
import { assets } from "./assets";

/** Not in the OpenAPI document: static files of the /admin page. */
export const route = { method: "get", path: "/admin/assets/{file}" } as const;

export const register = (app: App) =>
  app.get("/admin/assets/:file", (c) => {
    const asset = assets[c.req.param("file")];
    if (!asset) throw new AppError("not_found", `No asset ${c.req.param("file")}`);
    // URLs carry a content version (?v=), so a year of caching is safe.
    return c.body(asset.body, 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    });
  });
