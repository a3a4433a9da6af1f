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
ALTER TABLE `kpi_snapshots` ADD `ends_at` text;