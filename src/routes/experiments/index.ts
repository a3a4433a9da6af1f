import type { RouteModule } from "../route";
import { getExperimentRoute } from "./get-experiment";
import { getExperimentResultsRoute } from "./get-results";
import { listExperimentsRoute } from "./list-experiments";
import { stopExperimentRoute } from "./stop-experiment";

export const experimentRoutes: RouteModule[] = [listExperimentsRoute, getExperimentRoute, getExperimentResultsRoute, stopExperimentRoute];
