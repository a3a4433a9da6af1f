import type { RouteModule } from "../route";
import * as activities from "./activities";
import * as memberTier from "./member-tier";
import * as quote from "./quote";
import { ruleRoutes } from "./rules";
import { tierRoutes } from "./tiers";

export const loyaltyRoutes: RouteModule[] = [...ruleRoutes, ...tierRoutes, quote, activities, memberTier];
