import type { RouteModule } from "../route";
import { deepHealthRoute } from "./deep-health";
import { healthRoute } from "./health";
import { openApiRoute } from "./openapi";

export const systemRoutes: RouteModule[] = [healthRoute, deepHealthRoute, openApiRoute];
