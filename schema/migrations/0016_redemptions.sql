CREATE TABLE `redemptions` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`status` text NOT NULL,
	`points` integer NOT NULL,
	`captured_points` integer DEFAULT 0 NOT NULL,
	`reversed_points` integer DEFAULT 0 NOT NULL,
	`reason` text NOT NULL,
	`entry_id` text NOT NULL,
	`expires_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "redemptions_points_ck" CHECK("redemptions"."captured_points" <= "redemptions"."points" AND "redemptions"."reversed_points" <= "redemptions"."captured_points")
);
--> statement-breakpoint
CREATE INDEX `redemptions_member_idx` ON `redemptions` (`member_id`,`status`);--> statement-breakpoint
CREATE INDEX `redemptions_program_idx` ON `redemptions` (`program_id`,`id`);--> statement-breakpoint
ALTER TABLE `members` ADD `points_reserved` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A reserve is settled once: captured, voided or expired, never two of them. The member's Durable
-- Object checks the status before planning; this is the database's second line (the whole batch,
-- its return of points included, is refused).
CREATE TRIGGER redemptions_status_guard
BEFORE UPDATE OF status ON redemptions
WHEN OLD.status <> 'reserved' AND NEW.status <> OLD.status
BEGIN
  SELECT RAISE(ABORT, 'redemption_settled');
END;
