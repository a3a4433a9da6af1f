import type { RouteModule } from "../route";
import { getAcquisitionCostRoute } from "./cac";
import { getBudgetRoute } from "./get-budget";
import { listBudgetsRoute } from "./list-budgets";
import { setAcquisitionSpendRoute } from "./put-acquisition-spend";
import { setBudgetRoute } from "./put-budget";

export const budgetRoutes: RouteModule[] = [
  listBudgetsRoute,
  getBudgetRoute,
  setBudgetRoute,
  setAcquisitionSpendRoute,
  getAcquisitionCostRoute,
];
