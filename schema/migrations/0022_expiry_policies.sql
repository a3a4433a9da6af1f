DROP INDEX `lots_expiry_idx`;--> statement-breakpoint
ALTER TABLE `point_lots` ADD `expiry_kind` text DEFAULT 'date' NOT NULL;--> statement-breakpoint
CREATE INDEX `lots_due_idx` ON `point_lots` (`expiry_kind`,`expires_at`) WHERE remaining > 0;--> statement-breakpoint
CREATE INDEX `lots_period_due_idx` ON `point_lots` (`program_id`,`expires_at`) WHERE remaining > 0 AND expiry_kind = 'period';--> statement-breakpoint
ALTER TABLE `members` ADD `inactivity_expires_at` text;--> statement-breakpoint
CREATE INDEX `members_inactivity_expiry_idx` ON `members` (`inactivity_expires_at`);--> statement-breakpoint
ALTER TABLE `programs` ADD `expiry_policy` text;