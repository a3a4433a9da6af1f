import { addRoutes } from "../../registry";
import * as getExperiment from "./get-experiment";
import * as getResults from "./get-results";
import * as listExperiments from "./list-experiments";
import * as stopExperiment from "./stop-experiment";

addRoutes(listExperiments, getExperiment, getResults, stopExperiment);
