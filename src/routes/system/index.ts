import type { RouteModule } from "../route";
import { healthRoute } from "./health";
import { openApiRoute } from "./openapi";

export const systemRoutes: RouteModule[] = [healthRoute, openApiRoute];
