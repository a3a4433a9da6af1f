ALTER TABLE `members` ADD `assigned_tier_id` text;--> statement-breakpoint
ALTER TABLE `members` ADD `assigned_tier_until` text;