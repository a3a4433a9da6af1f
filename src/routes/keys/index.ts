import type { RouteModule } from "../route";
import { createApiKeyRoute } from "./create-key";
import { listApiKeysRoute } from "./list-keys";
import { revokeApiKeyRoute } from "./revoke-key";

export const keyRoutes: RouteModule[] = [createApiKeyRoute, listApiKeysRoute, revokeApiKeyRoute];
