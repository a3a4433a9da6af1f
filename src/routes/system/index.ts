import type { RouteModule } from "../route";
import * as bench from "./bench";
import { docsRoute } from "./docs";
import { healthRoute } from "./health";
import { openApiRoute } from "./openapi";

export const systemRoutes: RouteModule[] = [healthRoute, openApiRoute, docsRoute, bench];
