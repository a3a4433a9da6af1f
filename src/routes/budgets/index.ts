import type { RouteModule } from "../route";
import * as cac from "./cac";
import * as getBudget from "./get-budget";
import * as listBudgets from "./list-budgets";
import * as putAcquisitionSpend from "./put-acquisition-spend";
import * as putBudget from "./put-budget";

export const budgetRoutes: RouteModule[] = [listBudgets, getBudget, putBudget, putAcquisitionSpend, cac];
