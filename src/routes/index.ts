import type { App } from "../lib/context";
import { addRoutes, registry } from "../registry";
import * as accrue from "./ledger/accrue";
import * as adjust from "./ledger/adjust";
import * as balance from "./ledger/balance";
import * as listLedger from "./ledger/list-ledger";
import * as redeem from "./ledger/redeem";
import * as refund from "./ledger/refund";
import * as changeTags from "./members/change-tags";
import * as eraseMember from "./members/erase-member";
import * as findMember from "./members/find-member";
import * as getMember from "./members/get-member";
import * as registerMember from "./members/register-member";
import * as updateMember from "./members/update-member";
import * as health from "./system/health";

// Health, member and ledger routes; the other areas add theirs through the registry (see src/features.ts).
addRoutes(
  health,
  registerMember,
  findMember,
  getMember,
  updateMember,
  changeTags,
  eraseMember,
  accrue,
  redeem,
  adjust,
  refund,
  balance,
  listLedger,
);

export function registerRoutes(app: App) {
  for (const m of registry.routes) m.register(app);
}
