// Each feature registers its routes, ledger hooks and cron jobs on import.
import "./routes";
import "./cron";
import "./routes/loyalty";
import "./cron/tiers";
import "./features/rewards";
import "./cron/birthdays";
import "./features/admin";
import "./features/access";
import "./features/analytics";
import "./features/campaigns";
import "./routes/system/bench";
