import type { RouteModule } from "../route";
import { exportDataRoute } from "./export-data";

export const exportRoutes: RouteModule[] = [exportDataRoute];
