import type { RouteModule } from "../route";
import { accruePointsRoute } from "./accrue";
import { adjustPointsRoute } from "./adjust";
import { getBalanceRoute } from "./balance";
import { listLedgerEntriesRoute } from "./list-ledger";
import { redeemPointsRoute } from "./redeem";
import { refundOrderRoute } from "./refund";

export const ledgerRoutes: RouteModule[] = [
  accruePointsRoute,
  redeemPointsRoute,
  adjustPointsRoute,
  refundOrderRoute,
  getBalanceRoute,
  listLedgerEntriesRoute,
];
