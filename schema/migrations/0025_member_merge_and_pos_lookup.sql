CREATE TABLE `member_merges` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`target_id` text NOT NULL,
	`source_id` text NOT NULL,
	`status` text NOT NULL,
	`idempotency_key` text,
	`result` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `member_merges_source_uq` ON `member_merges` (`program_id`,`source_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `member_merges_key_uq` ON `member_merges` (`program_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `member_merges_target_idx` ON `member_merges` (`target_id`);--> statement-breakpoint
ALTER TABLE `members` ADD `phone_e164` text;--> statement-breakpoint
ALTER TABLE `members` ADD `member_number` integer;--> statement-breakpoint
ALTER TABLE `members` ADD `merged_into` text;--> statement-breakpoint
CREATE INDEX `members_program_phone_idx` ON `members` (`program_id`,`phone_e164`);--> statement-breakpoint
CREATE UNIQUE INDEX `members_program_number_uq` ON `members` (`program_id`,`member_number`);