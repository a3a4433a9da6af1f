import type { RouteModule } from "../route";
import { getChurnHistogramRoute } from "./churn";
import { getDashboardOverviewRoute } from "./dashboard";
import { getLifecycleSettingsRoute } from "./get-lifecycle-settings";
import { getModelFitRoute } from "./models";
import { setLifecycleSettingsRoute } from "./put-lifecycle-settings";
import { recomputeAnalyticsRoute } from "./recompute";
import { getSegmentCountsRoute } from "./segment-counts";
import { listTopClvMembersRoute } from "./top-clv";

export const analyticsRoutes: RouteModule[] = [
  getDashboardOverviewRoute,
  getModelFitRoute,
  recomputeAnalyticsRoute,
  getSegmentCountsRoute,
  getChurnHistogramRoute,
  listTopClvMembersRoute,
  getLifecycleSettingsRoute,
  setLifecycleSettingsRoute,
];
