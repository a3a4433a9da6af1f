DROP INDEX `ledger_requests_key_uq`;--> statement-breakpoint
ALTER TABLE `ledger_requests` ADD `origin` text DEFAULT 'client' NOT NULL;--> statement-breakpoint
-- Keys written before origins existed: the ones the system derived for its own writes (by prefix and
-- the operation it used them for) move to the system namespace; everything else was a client's.
UPDATE `ledger_requests` SET `origin` = 'system' WHERE
  (`idempotency_key` GLOB 'partner:*' AND `operation` IN ('accrue', 'refund', 'activity'))
  OR (`idempotency_key` GLOB 'referral:*' AND `operation` IN ('referral.credit', 'referral.reverse'))
  OR (`idempotency_key` GLOB 'campaign:*' AND `operation` = 'campaign.award')
  OR (`idempotency_key` GLOB 'coupon:*' AND `operation` = 'coupon.cancel')
  OR ((`idempotency_key` GLOB 'feedback:*' OR `idempotency_key` GLOB 'signup:*' OR `idempotency_key` GLOB 'birthday:*') AND `operation` = 'activity');--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_requests_key_uq` ON `ledger_requests` (`program_id`,`origin`,`idempotency_key`);--> statement-breakpoint
ALTER TABLE `campaign_occurrences` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `campaign_occurrences` ADD `next_attempt_at` text;--> statement-breakpoint
ALTER TABLE `outbox_events` ADD `dispatch_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `referrals` ADD `settle_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `referrals` ADD `settle_after` text;--> statement-breakpoint
ALTER TABLE `referrals` ADD `settle_error` text;--> statement-breakpoint
ALTER TABLE `programs` ADD `backdate_days` integer DEFAULT 30 NOT NULL;