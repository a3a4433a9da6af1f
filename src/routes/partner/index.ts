import type { RouteModule } from "../route";
import { postPartnerEventsRoute } from "./post-events";
import { rotatePartnerSigningSecretRoute } from "./rotate-signing-secret";

export const partnerRoutes: RouteModule[] = [postPartnerEventsRoute, rotatePartnerSigningSecretRoute];
