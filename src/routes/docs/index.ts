import type { RouteModule } from "../route";
import { docsRoute } from "./page";
import { docsAssetRoute } from "./static";

export const docsRoutes: RouteModule[] = [docsRoute, docsAssetRoute];
