import type { RouteModule } from "../route";
import { listAuditLogRoute } from "./list-audit";

export const auditRoutes: RouteModule[] = [listAuditLogRoute];
