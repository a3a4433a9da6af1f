import type { RouteModule } from "../route";
import { recordActivityRoute } from "./activities";
import { assignMemberTierRoute } from "./assign-tier";
import { getMemberTierRoute } from "./member-tier";
import { quotePurchaseRoute } from "./quote";
import { ruleRoutes } from "./rules";
import { tierRoutes } from "./tiers";

export const loyaltyRoutes: RouteModule[] = [
  ...ruleRoutes,
  ...tierRoutes,
  quotePurchaseRoute,
  recordActivityRoute,
  getMemberTierRoute,
  assignMemberTierRoute,
];
