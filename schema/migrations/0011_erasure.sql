CREATE TABLE `erased_members` (
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`erased_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `erased_members_uq` ON `erased_members` (`program_id`,`member_id`);--> statement-breakpoint
ALTER TABLE `partner_events` ADD `member_id` text;--> statement-breakpoint
CREATE INDEX `partner_events_member_idx` ON `partner_events` (`member_id`);--> statement-breakpoint
CREATE INDEX `ledger_requests_member_idx` ON `ledger_requests` (`member_id`);--> statement-breakpoint
CREATE INDEX `outbox_member_idx` ON `outbox_events` (`member_id`);--> statement-breakpoint
CREATE INDEX `messages_member_idx` ON `messages` (`member_id`);--> statement-breakpoint
-- Stored partner results name their member: upserts in the result, points events through their ledger request.
UPDATE `partner_events` SET `member_id` = json_extract(`result`, '$.member.id') WHERE `type` = 'member.upsert';--> statement-breakpoint
UPDATE `partner_events` SET `member_id` = (
  SELECT r.`member_id` FROM `ledger_requests` r WHERE r.`program_id` = `partner_events`.`program_id` AND r.`idempotency_key` = 'partner:' || `partner_events`.`event_id`
) WHERE `member_id` IS NULL;--> statement-breakpoint
-- Members erased before tombstones existed.
INSERT INTO `erased_members` (`program_id`, `member_id`, `erased_at`)
  SELECT `program_id`, `id`, COALESCE(`erased_at`, `updated_at`) FROM `members` WHERE `status` = 'erased';
