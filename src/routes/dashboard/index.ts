import type { RouteModule } from "../route";
import * as page from "./page";
import * as assets from "./static";

export const dashboardRoutes: RouteModule[] = [page, assets];
