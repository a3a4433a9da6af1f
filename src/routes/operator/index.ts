import type { RouteModule } from "../route";
import { createTenantRoute } from "./create-program";
import { deleteTenantRoute } from "./delete-program";
import { getTenantRoute, listTenantsRoute } from "./list-programs";
import { tenantUsageRoute } from "./program-usage";
import { resumeTenantRoute, suspendTenantRoute } from "./suspend-program";

/** The deployment operator's routes (OPERATOR_TOKEN): programs as tenants, and their usage. */
export const operatorRoutes: RouteModule[] = [
  createTenantRoute,
  listTenantsRoute,
  getTenantRoute,
  suspendTenantRoute,
  resumeTenantRoute,
  deleteTenantRoute,
  tenantUsageRoute,
];
