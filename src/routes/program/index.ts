import type { RouteModule } from "../route";
import { applyProgramConfigRoute } from "./apply-config";
import { getProgramConfigRoute } from "./get-config";
import { getProgramRoute } from "./get-program";
import { updateProgramRoute } from "./update-program";

export const programRoutes: RouteModule[] = [getProgramRoute, updateProgramRoute, getProgramConfigRoute, applyProgramConfigRoute];
