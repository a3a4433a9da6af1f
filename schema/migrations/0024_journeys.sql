CREATE TABLE `channel_suppressions` (
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`channel` text NOT NULL,
	`reason` text NOT NULL,
	`message_id` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`member_id`, `channel`)
);
--> statement-breakpoint
CREATE TABLE `journey_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`member_id` text NOT NULL,
	`occurrence_key` text NOT NULL,
	`variant_key` text,
	`status` text NOT NULL,
	`step_id` text,
	`next_run_at` text,
	`exit_reason` text,
	`context` text,
	`entered_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `journey_runs_occurrence_uq` ON `journey_runs` (`campaign_id`,`member_id`,`occurrence_key`);--> statement-breakpoint
CREATE INDEX `journey_runs_due_idx` ON `journey_runs` (`status`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `journey_runs_campaign_idx` ON `journey_runs` (`campaign_id`,`status`);--> statement-breakpoint
CREATE TABLE `journey_step_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`program_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`member_id` text NOT NULL,
	`step_id` text NOT NULL,
	`outcome` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `journey_step_runs_uq` ON `journey_step_runs` (`run_id`,`step_id`);--> statement-breakpoint
CREATE INDEX `journey_step_runs_campaign_idx` ON `journey_step_runs` (`campaign_id`,`step_id`);--> statement-breakpoint
CREATE TABLE `message_events` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`message_id` text NOT NULL,
	`campaign_id` text,
	`member_id` text NOT NULL,
	`channel` text NOT NULL,
	`type` text NOT NULL,
	`provider_event_id` text NOT NULL,
	`occurred_at` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_events_provider_uq` ON `message_events` (`program_id`,`channel`,`provider_event_id`);--> statement-breakpoint
CREATE INDEX `message_events_message_idx` ON `message_events` (`message_id`,`type`);--> statement-breakpoint
CREATE INDEX `message_events_campaign_idx` ON `message_events` (`campaign_id`,`type`);--> statement-breakpoint
CREATE INDEX `message_events_member_idx` ON `message_events` (`member_id`,`type`,`occurred_at`);--> statement-breakpoint
ALTER TABLE `messages` ADD `journey_run_id` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `step_id` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `priority` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_journey_run_idx` ON `messages` (`journey_run_id`);--> statement-breakpoint
CREATE INDEX `messages_member_delivered_idx` ON `messages` (`member_id`,`delivered_at`);