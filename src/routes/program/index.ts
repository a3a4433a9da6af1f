import type { RouteModule } from "../route";
import { getProgramRoute } from "./get-program";
import { updateProgramRoute } from "./update-program";

export const programRoutes: RouteModule[] = [getProgramRoute, updateProgramRoute];
