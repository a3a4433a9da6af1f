import type { RouteModule } from "../route";
import * as churn from "./churn";
import * as dashboard from "./dashboard";
import * as getLifecycleSettings from "./get-lifecycle-settings";
import * as models from "./models";
import * as putLifecycleSettings from "./put-lifecycle-settings";
import * as recompute from "./recompute";
import * as segmentCounts from "./segment-counts";
import * as topClv from "./top-clv";

export const analyticsRoutes: RouteModule[] = [
  dashboard,
  models,
  recompute,
  segmentCounts,
  churn,
  topClv,
  getLifecycleSettings,
  putLifecycleSettings,
];
