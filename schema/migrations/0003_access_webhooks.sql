CREATE TABLE `outbox_cursors` (
	`consumer` text PRIMARY KEY NOT NULL,
	`position` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD `rate_limit_per_minute` integer;