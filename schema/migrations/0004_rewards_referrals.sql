CREATE INDEX `referrals_status_idx` ON `referrals` (`status`,`id`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_rewards` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`points_cost` integer NOT NULL,
	`cost_minor` integer DEFAULT 0 NOT NULL,
	`definition` text NOT NULL,
	`inventory_remaining` integer,
	`active` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "rewards_inventory_ck" CHECK(inventory_remaining IS NULL OR inventory_remaining >= 0)
);
--> statement-breakpoint
INSERT INTO `__new_rewards`("id", "program_id", "name", "kind", "points_cost", "cost_minor", "definition", "inventory_remaining", "active", "created_at", "updated_at") SELECT "id", "program_id", "name", "kind", "points_cost", "cost_minor", "definition", "inventory_remaining", "active", "created_at", "updated_at" FROM `rewards`;--> statement-breakpoint
DROP TABLE `rewards`;--> statement-breakpoint
ALTER TABLE `__new_rewards` RENAME TO `rewards`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `rewards_program_idx` ON `rewards` (`program_id`);