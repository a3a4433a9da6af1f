PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_earning_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`definition` text NOT NULL,
	`points_awarded` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "rules_budget_ck" CHECK(json_extract(definition, '$.budgetPoints') IS NULL OR points_awarded <= json_extract(definition, '$.budgetPoints'))
);
--> statement-breakpoint
INSERT INTO `__new_earning_rules`("id", "program_id", "name", "active", "definition", "points_awarded", "created_at", "updated_at") SELECT "id", "program_id", "name", "active", "definition", "points_awarded", "created_at", "updated_at" FROM `earning_rules`;--> statement-breakpoint
DROP TABLE `earning_rules`;--> statement-breakpoint
ALTER TABLE `__new_earning_rules` RENAME TO `earning_rules`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `rules_program_idx` ON `earning_rules` (`program_id`,`active`);