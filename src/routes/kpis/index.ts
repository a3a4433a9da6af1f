import type { RouteModule } from "../route";
import { listKpiSnapshotsRoute } from "./list-kpis";
import { getTodayKpisRoute } from "./today";

// /v1/kpis/today before /v1/kpis so the literal path is registered first.
export const kpiRoutes: RouteModule[] = [getTodayKpisRoute, listKpiSnapshotsRoute];
