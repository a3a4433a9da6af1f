import type { RouteModule } from "../route";
import { listFeedbackRoute } from "./list-feedback";
import { recordFeedbackRoute } from "./post-feedback";

export const feedbackRoutes: RouteModule[] = [recordFeedbackRoute, listFeedbackRoute];
