import { addRoutes } from "../../registry";
import * as listFeedback from "./list-feedback";
import * as postFeedback from "./post-feedback";

addRoutes(postFeedback, listFeedback);
