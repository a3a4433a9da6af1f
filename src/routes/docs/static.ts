import { staticAssetRoute } from "../static-assets";
import { assets } from "./assets";

/** Not in the OpenAPI document: static files of the /docs page. */
export const docsAssetRoute = staticAssetRoute({
  operationId: "system.docs.asset",
  path: "/docs/assets/{file}",
  summary: "A static file of the API reference page",
  assets,
});
