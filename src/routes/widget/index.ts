import type { RouteModule } from "../route";
import { rotateWidgetSecretRoute } from "./rotate-widget-secret";

export const widgetRoutes: RouteModule[] = [rotateWidgetSecretRoute];
