import type { RouteModule } from "../route";
import { importBalancesRoute } from "./import-balances";
import { importMembersRoute } from "./import-members";
import { importTransactionsRoute } from "./import-transactions";

export const importRoutes: RouteModule[] = [importMembersRoute, importBalancesRoute, importTransactionsRoute];
