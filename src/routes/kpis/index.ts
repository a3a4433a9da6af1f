import type { RouteModule } from "../route";
import * as listKpis from "./list-kpis";
import * as today from "./today";

// /v1/kpis/today before /v1/kpis so the literal path is registered first.
export const kpiRoutes: RouteModule[] = [today, listKpis];
