CREATE TABLE `lot_allocations` (
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`entry_id` text NOT NULL,
	`lot_id` text NOT NULL,
	`points` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lot_allocations_entry_lot_uq` ON `lot_allocations` (`entry_id`,`lot_id`);--> statement-breakpoint
CREATE INDEX `lot_allocations_lot_idx` ON `lot_allocations` (`lot_id`);--> statement-breakpoint
CREATE INDEX `lot_allocations_member_idx` ON `lot_allocations` (`member_id`);--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `debt` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `members` ADD `points_debt` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Debits written before lot_allocations existed recorded their lots in metadata (`lots`), and
-- expiry entries name their lot: both become allocation rows.
INSERT OR IGNORE INTO `lot_allocations` (`program_id`, `member_id`, `entry_id`, `lot_id`, `points`, `created_at`)
  SELECT e.`program_id`, e.`member_id`, e.`id`, json_extract(j.value, '$.lotId'), json_extract(j.value, '$.points'), e.`created_at`
  FROM `ledger_entries` e, json_each(e.`metadata`, '$.lots') j
  WHERE json_type(e.`metadata`, '$.lots') = 'array' AND json_extract(j.value, '$.lotId') IS NOT NULL;--> statement-breakpoint
INSERT OR IGNORE INTO `lot_allocations` (`program_id`, `member_id`, `entry_id`, `lot_id`, `points`, `created_at`)
  SELECT `program_id`, `member_id`, `id`, `source_id`, -`points`, `created_at` FROM `ledger_entries`
  WHERE `type` = 'expire' AND `source_type` = 'lot' AND `points` < 0;
