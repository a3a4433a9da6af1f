-- Campaign awards run in many members' Durable Objects at once, so only the database can stop
-- concurrent awards from overspending a budget. The award batch raises spent_minor; if that
-- would pass the campaign's budget the whole batch (ledger entry, lot, balance) fails.
CREATE TRIGGER campaigns_budget_guard
BEFORE UPDATE OF spent_minor ON campaigns
WHEN NEW.budget_minor IS NOT NULL AND NEW.spent_minor > NEW.budget_minor AND NEW.spent_minor > OLD.spent_minor
BEGIN
  SELECT RAISE(ABORT, 'budget_exhausted');
END;
--> statement-breakpoint
-- The same guard for a program period's discretionary (campaign) budget.
CREATE TRIGGER budgets_spend_guard
BEFORE UPDATE OF spent_minor ON budgets
WHEN NEW.spent_minor > NEW.amount_minor AND NEW.spent_minor > OLD.spent_minor
BEGIN
  SELECT RAISE(ABORT, 'budget_exhausted');
END;
