import type { RouteModule } from "../route";
import { listKpiSnapshotsRoute } from "./list-kpis";
import { listTierKpisRoute } from "./list-tier-kpis";
import { getTodayKpisRoute } from "./today";

// /v1/kpis/today and /v1/kpis/tiers before /v1/kpis so the literal paths are registered first.
export const kpiRoutes: RouteModule[] = [getTodayKpisRoute, listTierKpisRoute, listKpiSnapshotsRoute];
