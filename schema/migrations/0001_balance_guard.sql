-- The database's second line behind the member's Durable Object: a balance may not go
-- below zero unless the program allows negative balances (e.g. refunds after spending).
CREATE TRIGGER members_balance_guard
BEFORE UPDATE OF points_balance ON members
WHEN NEW.points_balance < 0 AND NEW.points_balance < OLD.points_balance
  AND (SELECT allow_negative_balance FROM programs WHERE id = NEW.program_id) = 0
BEGIN
  SELECT RAISE(ABORT, 'negative_balance');
END;
