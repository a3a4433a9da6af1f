import type { RouteModule } from "../route";
import * as bench from "./bench";
import * as docs from "./docs";
import * as health from "./health";
import * as openapi from "./openapi";

export const systemRoutes: RouteModule[] = [health, openapi, docs, bench];
