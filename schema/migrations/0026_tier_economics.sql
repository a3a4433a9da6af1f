CREATE TABLE `tier_kpi_snapshots` (
	`program_id` text NOT NULL,
	`day` text NOT NULL,
	`tier_id` text NOT NULL,
	`tier_name` text NOT NULL,
	`figures` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`program_id`, `day`, `tier_id`)
);
--> statement-breakpoint
CREATE TABLE `tier_versions` (
	`tier_id` text NOT NULL,
	`version` integer NOT NULL,
	`program_id` text NOT NULL,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tier_id`, `version`)
);
--> statement-breakpoint
ALTER TABLE `orders` ADD `tier_id` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `tier_version` integer;--> statement-breakpoint
ALTER TABLE `tiers` ADD `version` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- Hand-written: existing tiers' definitions become their version 1.
INSERT INTO `tier_versions` (`tier_id`, `version`, `program_id`, `definition`, `created_at`) SELECT `id`, 1, `program_id`, `definition`, `updated_at` FROM `tiers`;--> statement-breakpoint
CREATE INDEX `members_search_email_idx` ON `members` (`program_id`,lower("email"),`id`);--> statement-breakpoint
-- Hand-written (drizzle-kit splits this expression at its commas): the index on the phone's digits.
CREATE INDEX `members_search_phone_idx` ON `members` (`program_id`,replace(replace(replace(replace(replace("phone", ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''),`id`);--> statement-breakpoint
CREATE INDEX `members_search_name_idx` ON `members` (`program_id`,lower("name"),`id`);--> statement-breakpoint
CREATE INDEX `tier_history_program_created_idx` ON `tier_history` (`program_id`,`created_at`);