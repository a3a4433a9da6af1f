import type { RouteModule } from "../route";
import { accruePointsRoute } from "./accrue";
import { adjustPointsRoute } from "./adjust";
import { getBalanceRoute } from "./balance";
import { getQueuedWriteRoute } from "./get-queued-write";
import { getRedemptionRoute } from "./get-redemption";
import { listLedgerEntriesRoute } from "./list-ledger";
import { redeemPointsRoute } from "./redeem";
import { refundOrderRoute } from "./refund";
import { captureRedemptionRoute, reverseRedemptionRoute, voidRedemptionRoute } from "./settle-redemption";

export const ledgerRoutes: RouteModule[] = [
  accruePointsRoute,
  redeemPointsRoute,
  getRedemptionRoute,
  captureRedemptionRoute,
  voidRedemptionRoute,
  reverseRedemptionRoute,
  adjustPointsRoute,
  refundOrderRoute,
  getBalanceRoute,
  getQueuedWriteRoute,
  listLedgerEntriesRoute,
];
