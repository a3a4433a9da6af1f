import type { RouteModule } from "../route";
import * as createKey from "./create-key";
import * as listKeys from "./list-keys";
import * as revokeKey from "./revoke-key";

export const keyRoutes: RouteModule[] = [createKey, listKeys, revokeKey];
