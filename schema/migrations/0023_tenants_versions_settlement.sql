CREATE TABLE `program_usage_daily` (
	`program_id` text NOT NULL,
	`day` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`writes` integer DEFAULT 0 NOT NULL,
	`rows_written` integer DEFAULT 0 NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`program_id`, `day`)
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD `api_version` text DEFAULT '2026-06-01' NOT NULL;--> statement-breakpoint
ALTER TABLE `redemptions` ADD `source_partner` text;--> statement-breakpoint
CREATE INDEX `redemptions_partner_idx` ON `redemptions` (`program_id`,`source_partner`,`created_at`);--> statement-breakpoint
ALTER TABLE `programs` ADD `suspended_at` text;--> statement-breakpoint
ALTER TABLE `programs` ADD `suspended_reason` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `api_version` text DEFAULT '2026-06-01' NOT NULL;