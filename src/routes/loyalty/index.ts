import type { RouteModule } from "../route";
import { recordActivityRoute } from "./activities";
import { assignMemberTierRoute } from "./assign-tier";
import { getMemberTierRoute } from "./member-tier";
import { quotePurchaseRoute } from "./quote";
import { ruleRoutes } from "./rules";
import { listTierVersionsRoute } from "./tier-versions";
import { tierRoutes } from "./tiers";

export const loyaltyRoutes: RouteModule[] = [
  ...ruleRoutes,
  ...tierRoutes,
  listTierVersionsRoute,
  quotePurchaseRoute,
  recordActivityRoute,
  getMemberTierRoute,
  assignMemberTierRoute,
];
