import { addRoutes } from "../../registry";
import * as listKpis from "./list-kpis";
import * as today from "./today";

// /v1/kpis/today before /v1/kpis so the literal path is registered first.
addRoutes(today, listKpis);
