ALTER TABLE `feedback` ADD `request_key` text;--> statement-breakpoint
ALTER TABLE `feedback` ADD `request_hash` text;--> statement-breakpoint
CREATE UNIQUE INDEX `feedback_program_request_key_uq` ON `feedback` (`program_id`,`request_key`);