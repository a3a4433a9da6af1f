import { staticAssetRoute } from "../static-assets";
import { assets } from "./assets";

/** Not in the OpenAPI document: static files of the /admin page. */
export const dashboardAssetRoute = staticAssetRoute({
  operationId: "system.dashboard.asset",
  path: "/admin/assets/{file}",
  summary: "A static file of the admin dashboard",
  assets,
});
