import type { RouteModule } from "../route";
import { getJobRoute } from "./get-job";
import { listJobsRoute } from "./list-jobs";

export const jobRoutes: RouteModule[] = [listJobsRoute, getJobRoute];
