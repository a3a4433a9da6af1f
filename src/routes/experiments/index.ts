import type { RouteModule } from "../route";
import * as getExperiment from "./get-experiment";
import * as getResults from "./get-results";
import * as listExperiments from "./list-experiments";
import * as stopExperiment from "./stop-experiment";

export const experimentRoutes: RouteModule[] = [listExperiments, getExperiment, getResults, stopExperiment];
