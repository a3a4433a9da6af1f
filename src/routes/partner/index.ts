import type { RouteModule } from "../route";
import * as postEvents from "./post-events";
import * as rotateSigningSecret from "./rotate-signing-secret";

export const partnerRoutes: RouteModule[] = [postEvents, rotateSigningSecret];
