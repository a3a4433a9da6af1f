// Each feature registers its routes, ledger hooks and cron jobs on import.
import "./routes";
import "./cron";
import "./ledger/earning-hooks";
import "./routes/loyalty";
import "./cron/tiers";
import "./cron/birthdays";
