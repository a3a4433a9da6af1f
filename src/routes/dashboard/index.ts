import type { RouteModule } from "../route";
import { dashboardPageRoute, dashboardPageSlashRoute } from "./page";
import { dashboardAssetRoute } from "./static";

export const dashboardRoutes: RouteModule[] = [dashboardPageRoute, dashboardPageSlashRoute, dashboardAssetRoute];
