// Analytics (DESIGN capabilities 7 and 8): segments, RFM, lifecycle stages, churn and CLV.
import { runNightlyAnalytics } from "../cron/analytics";
import { addCronJob, addRoutes, schedules } from "../registry";
import { analyticsRoutes } from "../routes/analytics";
import { segmentRoutes } from "../routes/segments";

addRoutes(...segmentRoutes, ...analyticsRoutes);
addCronJob(schedules.nightly, { name: "analytics.nightly", run: runNightlyAnalytics });
