import { analyticsRoutes } from "./analytics";
import { auditRoutes } from "./audit";
import { budgetRoutes } from "./budgets";
import { campaignRoutes } from "./campaigns";
import { couponRoutes } from "./coupons";
import { dashboardRoutes } from "./dashboard";
import { docsRoutes } from "./docs";
import { experimentRoutes } from "./experiments";
import { exportRoutes } from "./exports";
import { feedbackRoutes } from "./feedback";
import { importRoutes } from "./imports";
import { jobRoutes } from "./jobs";
import { keyRoutes } from "./keys";
import { kpiRoutes } from "./kpis";
import { ledgerRoutes } from "./ledger";
import { loyaltyRoutes } from "./loyalty";
import { memberRoutes } from "./members";
import { operatorRoutes } from "./operator";
import { partnerRoutes } from "./partner";
import { programRoutes } from "./program";
import { referralRoutes } from "./referrals";
import { rewardRoutes } from "./rewards";
import type { RouteModule } from "./route";
import { segmentRoutes } from "./segments";
import { systemRoutes } from "./system";
import { webhookRoutes } from "./webhooks";
import { widgetRoutes } from "./widget";

/** Every route the API serves, area by area, in the order the app mounts them. */
export const apiRoutes: readonly RouteModule[] = [
  ...systemRoutes,
  ...docsRoutes,
  ...memberRoutes,
  ...ledgerRoutes,
  ...loyaltyRoutes,
  ...rewardRoutes,
  ...couponRoutes,
  ...referralRoutes,
  ...dashboardRoutes,
  ...partnerRoutes,
  ...webhookRoutes,
  ...keyRoutes,
  ...programRoutes,
  ...exportRoutes,
  ...importRoutes,
  ...auditRoutes,
  ...segmentRoutes,
  ...analyticsRoutes,
  ...campaignRoutes,
  ...experimentRoutes,
  ...budgetRoutes,
  ...kpiRoutes,
  ...feedbackRoutes,
  ...jobRoutes,
  ...operatorRoutes,
  ...widgetRoutes,
];
