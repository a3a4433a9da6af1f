// Each feature registers its routes, ledger hooks and cron jobs on import.
import "./routes";
import "./cron";
