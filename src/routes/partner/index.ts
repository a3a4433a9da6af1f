import type { RouteModule } from "../route";
import { postPartnerEventsRoute } from "./post-events";
import { rotatePartnerSigningSecretRoute } from "./rotate-signing-secret";
import { settlementRoute } from "./settlement";

export const partnerRoutes: RouteModule[] = [postPartnerEventsRoute, rotatePartnerSigningSecretRoute, settlementRoute];
