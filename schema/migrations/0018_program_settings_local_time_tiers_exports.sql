CREATE TABLE `local_day_runs` (
	`program_id` text NOT NULL,
	`job` text NOT NULL,
	`day` text NOT NULL,
	`ran_at` text NOT NULL,
	PRIMARY KEY(`program_id`, `job`)
);
--> statement-breakpoint
ALTER TABLE `kpi_snapshots` ADD `time_zone` text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE `kpi_snapshots` ADD `starts_at` text;--> statement-breakpoint
ALTER TABLE `kpi_snapshots` ADD `ends_at` text;--> statement-breakpoint
ALTER TABLE `members` ADD `assigned_tier_id` text;--> statement-breakpoint
ALTER TABLE `members` ADD `assigned_tier_until` text;--> statement-breakpoint
CREATE INDEX `members_program_updated_idx` ON `members` (`program_id`,`updated_at`,`id`);--> statement-breakpoint
ALTER TABLE `programs` ADD `time_zone` text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `default_locale` text DEFAULT 'en-US' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `allowed_origins` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `config_version` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `orders_program_created_idx` ON `orders` (`program_id`,`created_at`,`id`);