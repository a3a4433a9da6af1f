// The admin experience: OpenAPI document, API reference, dashboard page and its aggregate.
import { addRoutes } from "../registry";
import * as dashboardOverview from "../routes/analytics/dashboard";
import * as dashboardPage from "../routes/dashboard/page";
import * as dashboardStatic from "../routes/dashboard/static";
import * as docs from "../routes/system/docs";
import * as openapi from "../routes/system/openapi";

addRoutes(openapi, docs, dashboardPage, dashboardStatic, dashboardOverview);
