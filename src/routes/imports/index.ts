import type { RouteModule } from "../route";
import { importBalancesRoute } from "./import-balances";
import { importTransactionsRoute } from "./import-transactions";

export const importRoutes: RouteModule[] = [importBalancesRoute, importTransactionsRoute];
