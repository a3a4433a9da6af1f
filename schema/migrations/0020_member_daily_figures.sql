-- Per member and UTC day, what tier qualification counts (schema/tiers.ts memberDailyFigures),
-- clustered by member (WITHOUT ROWID): a member's window is one contiguous range.
CREATE TABLE `member_daily_figures` (
	`member_id` text NOT NULL,
	`day` text NOT NULL,
	`program_id` text NOT NULL,
	`spend` integer DEFAULT 0 NOT NULL,
	`orders` integer DEFAULT 0 NOT NULL,
	`placed` integer DEFAULT 0 NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`member_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Kept by triggers, so every path that writes orders or ledger entries (the member's ledger,
-- partner events, the bulk import) keeps it in the same transaction, with no extra round trip.
CREATE TRIGGER orders_daily_figures_insert AFTER INSERT ON orders BEGIN
  INSERT INTO member_daily_figures (member_id, day, program_id, spend, orders, placed)
  VALUES (NEW.member_id, substr(NEW.occurred_at, 1, 10), NEW.program_id, NEW.amount - NEW.refunded_amount, NEW.refunded_amount < NEW.amount, 1)
  ON CONFLICT (member_id, day) DO UPDATE SET spend = spend + excluded.spend, orders = orders + excluded.orders, placed = placed + 1;
END;
--> statement-breakpoint
CREATE TRIGGER orders_daily_figures_update AFTER UPDATE OF member_id, occurred_at, amount, refunded_amount ON orders BEGIN
  UPDATE member_daily_figures SET spend = spend - (OLD.amount - OLD.refunded_amount), orders = orders - (OLD.refunded_amount < OLD.amount), placed = placed - 1
  WHERE member_id = OLD.member_id AND day = substr(OLD.occurred_at, 1, 10);
  INSERT INTO member_daily_figures (member_id, day, program_id, spend, orders, placed)
  VALUES (NEW.member_id, substr(NEW.occurred_at, 1, 10), NEW.program_id, NEW.amount - NEW.refunded_amount, NEW.refunded_amount < NEW.amount, 1)
  ON CONFLICT (member_id, day) DO UPDATE SET spend = spend + excluded.spend, orders = orders + excluded.orders, placed = placed + 1;
END;
--> statement-breakpoint
CREATE TRIGGER orders_daily_figures_delete AFTER DELETE ON orders BEGIN
  UPDATE member_daily_figures SET spend = spend - (OLD.amount - OLD.refunded_amount), orders = orders - (OLD.refunded_amount < OLD.amount), placed = placed - 1
  WHERE member_id = OLD.member_id AND day = substr(OLD.occurred_at, 1, 10);
END;
--> statement-breakpoint
CREATE TRIGGER ledger_daily_figures_insert AFTER INSERT ON ledger_entries WHEN NEW.type IN ('earn', 'reverse') BEGIN
  INSERT INTO member_daily_figures (member_id, day, program_id, points)
  VALUES (NEW.member_id, substr(NEW.created_at, 1, 10), NEW.program_id, NEW.points)
  ON CONFLICT (member_id, day) DO UPDATE SET points = points + excluded.points;
END;
--> statement-breakpoint
-- What is already there.
INSERT INTO member_daily_figures (member_id, day, program_id, spend, orders, placed, points)
SELECT member_id, day, program_id, SUM(spend), SUM(orders), SUM(placed), SUM(points) FROM (
  SELECT member_id, substr(occurred_at, 1, 10) AS day, program_id, amount - refunded_amount AS spend, refunded_amount < amount AS orders, 1 AS placed, 0 AS points FROM orders
  UNION ALL
  SELECT member_id, substr(created_at, 1, 10), program_id, 0, 0, 0, points FROM ledger_entries WHERE type IN ('earn', 'reverse')
) GROUP BY member_id, day;
