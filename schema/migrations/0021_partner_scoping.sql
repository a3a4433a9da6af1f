CREATE TABLE `partner_members` (
	`program_id` text NOT NULL,
	`partner` text NOT NULL,
	`member_id` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `partner_members_uq` ON `partner_members` (`program_id`,`partner`,`member_id`);--> statement-breakpoint
CREATE INDEX `partner_members_member_idx` ON `partner_members` (`member_id`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `partner` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `member_access` text DEFAULT 'touched' NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `source_scope` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `source_key_id` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `source_partner` text;