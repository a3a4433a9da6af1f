import { addRoutes } from "../../registry";
import * as activities from "./activities";
import * as memberTier from "./member-tier";
import * as quote from "./quote";
import { ruleRoutes } from "./rules";
import { tierRoutes } from "./tiers";

addRoutes(...ruleRoutes, ...tierRoutes, quote, activities, memberTier);
