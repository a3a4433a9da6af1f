import type { RouteModule } from "../route";
import * as accrue from "./accrue";
import * as adjust from "./adjust";
import * as balance from "./balance";
import * as listLedger from "./list-ledger";
import * as redeem from "./redeem";
import * as refund from "./refund";

export const ledgerRoutes: RouteModule[] = [accrue, redeem, adjust, refund, balance, listLedger];
