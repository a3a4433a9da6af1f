import type { RouteModule } from "../route";
import * as listAudit from "./list-audit";

export const auditRoutes: RouteModule[] = [listAudit];
