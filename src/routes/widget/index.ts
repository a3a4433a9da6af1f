import type { RouteModule } from "../route";
import { rotateWidgetSecretRoute } from "./rotate-widget-secret";
import { widgetAssetRoute, widgetDemoRoute, widgetScriptRoute } from "./script";

export const widgetRoutes: RouteModule[] = [widgetScriptRoute, widgetAssetRoute, widgetDemoRoute, rotateWidgetSecretRoute];
