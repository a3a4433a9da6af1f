import type { RouteModule } from "../route";
import * as listFeedback from "./list-feedback";
import * as postFeedback from "./post-feedback";

export const feedbackRoutes: RouteModule[] = [postFeedback, listFeedback];
