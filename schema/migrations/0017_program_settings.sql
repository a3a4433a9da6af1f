ALTER TABLE `programs` ADD `time_zone` text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `default_locale` text DEFAULT 'en-US' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `allowed_origins` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `programs` ADD `config_version` integer DEFAULT 1 NOT NULL;