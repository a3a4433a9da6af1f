CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`scope` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text,
	`revoked_at` text,
	`last_used_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_uq` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_program_idx` ON `api_keys` (`program_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`key_id` text,
	`action` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text,
	`before` text,
	`after` text,
	`request_id` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_program_created_idx` ON `audit_log` (`program_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `programs` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`currency` text NOT NULL,
	`base_points_per_unit` integer NOT NULL,
	`unit_minor` integer DEFAULT 100 NOT NULL,
	`point_cost_per_1000` integer NOT NULL,
	`allow_negative_balance` integer DEFAULT false NOT NULL,
	`hold_days` integer DEFAULT 0 NOT NULL,
	`expiry_days` integer,
	`settings` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `feedback` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`kind` text NOT NULL,
	`score` integer,
	`text` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `feedback_program_created_idx` ON `feedback` (`program_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `feedback_member_idx` ON `feedback` (`member_id`);--> statement-breakpoint
CREATE TABLE `members` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`external_id` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`email` text,
	`phone` text,
	`name` text,
	`birthday` text,
	`attributes` text DEFAULT '{}' NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`consent` text NOT NULL,
	`referral_code` text NOT NULL,
	`referred_by` text,
	`acquisition_channel` text,
	`points_balance` integer DEFAULT 0 NOT NULL,
	`points_pending` integer DEFAULT 0 NOT NULL,
	`lifetime_earned` integer DEFAULT 0 NOT NULL,
	`lifetime_redeemed` integer DEFAULT 0 NOT NULL,
	`lifetime_spend` integer DEFAULT 0 NOT NULL,
	`orders_count` integer DEFAULT 0 NOT NULL,
	`first_purchase_at` text,
	`last_purchase_at` text,
	`last_activity_at` text,
	`tier_id` text,
	`tier_since` text,
	`tier_secured_until` text,
	`stage` text DEFAULT 'new' NOT NULL,
	`stage_since` text,
	`rfm_r` integer,
	`rfm_f` integer,
	`rfm_m` integer,
	`value_segment` text,
	`churn_probability` real,
	`expected_purchases_90d` real,
	`expected_order_value` integer,
	`clv_12m` integer,
	`scored_at` text,
	`last_nps` integer,
	`feedback_tags` text DEFAULT '[]' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`erased_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `members_program_external_uq` ON `members` (`program_id`,`external_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `members_program_referral_uq` ON `members` (`program_id`,`referral_code`);--> statement-breakpoint
CREATE INDEX `members_program_id_idx` ON `members` (`program_id`,`id`);--> statement-breakpoint
CREATE INDEX `members_program_email_idx` ON `members` (`program_id`,`email`);--> statement-breakpoint
CREATE TABLE `tier_history` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`from_tier_id` text,
	`to_tier_id` text,
	`change` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tier_history_member_idx` ON `tier_history` (`member_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`type` text NOT NULL,
	`points` integer NOT NULL,
	`reason` text NOT NULL,
	`source_type` text NOT NULL,
	`source_id` text,
	`rule_id` text,
	`request_key` text NOT NULL,
	`metadata` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_member_created_idx` ON `ledger_entries` (`member_id`,`id`);--> statement-breakpoint
CREATE INDEX `ledger_program_created_idx` ON `ledger_entries` (`program_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_source_idx` ON `ledger_entries` (`program_id`,`source_type`,`source_id`);--> statement-breakpoint
CREATE TABLE `ledger_requests` (
	`program_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`member_id` text NOT NULL,
	`operation` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`response` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_requests_key_uq` ON `ledger_requests` (`program_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`order_id` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`refunded_amount` integer DEFAULT 0 NOT NULL,
	`points_earned` integer DEFAULT 0 NOT NULL,
	`points_reversed` integer DEFAULT 0 NOT NULL,
	`channel` text,
	`store_id` text,
	`items` text,
	`occurred_at` text NOT NULL,
	`created_at` text NOT NULL,
	CONSTRAINT "orders_refund_ck" CHECK("orders"."refunded_amount" <= "orders"."amount" AND "orders"."points_reversed" <= "orders"."points_earned")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_program_order_uq` ON `orders` (`program_id`,`order_id`);--> statement-breakpoint
CREATE INDEX `orders_member_occurred_idx` ON `orders` (`member_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `orders_program_occurred_idx` ON `orders` (`program_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `outbox_events` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` text NOT NULL,
	`dispatched_at` text
);
--> statement-breakpoint
CREATE INDEX `outbox_undispatched_idx` ON `outbox_events` (`dispatched_at`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_program_type_idx` ON `outbox_events` (`program_id`,`type`,`id`);--> statement-breakpoint
CREATE TABLE `point_lots` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`member_id` text NOT NULL,
	`entry_id` text NOT NULL,
	`order_id` text,
	`points` integer NOT NULL,
	`remaining` integer NOT NULL,
	`available_at` text NOT NULL,
	`released` integer DEFAULT 0 NOT NULL,
	`expires_at` text,
	`created_at` text NOT NULL,
	CONSTRAINT "point_lots_remaining_ck" CHECK("point_lots"."remaining" >= 0 AND "point_lots"."remaining" <= "point_lots"."points")
);
--> statement-breakpoint
CREATE INDEX `lots_member_expiry_idx` ON `point_lots` (`member_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `lots_release_idx` ON `point_lots` (`released`,`available_at`);--> statement-breakpoint
CREATE INDEX `lots_expiry_idx` ON `point_lots` (`expires_at`,`remaining`);--> statement-breakpoint
CREATE INDEX `lots_order_idx` ON `point_lots` (`program_id`,`order_id`);--> statement-breakpoint
CREATE TABLE `coupons` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`code` text NOT NULL,
	`reward_id` text NOT NULL,
	`member_id` text NOT NULL,
	`status` text NOT NULL,
	`points_cost` integer NOT NULL,
	`request_key` text NOT NULL,
	`issued_at` text NOT NULL,
	`expires_at` text,
	`consumed_at` text,
	`order_id` text,
	`cancelled_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `coupons_code_uq` ON `coupons` (`program_id`,`code`);--> statement-breakpoint
CREATE INDEX `coupons_member_reward_idx` ON `coupons` (`member_id`,`reward_id`);--> statement-breakpoint
CREATE TABLE `earning_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`definition` text NOT NULL,
	`points_awarded` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rules_program_idx` ON `earning_rules` (`program_id`,`active`);--> statement-breakpoint
CREATE TABLE `kpi_snapshots` (
	`program_id` text NOT NULL,
	`day` text NOT NULL,
	`figures` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `kpi_program_day_uq` ON `kpi_snapshots` (`program_id`,`day`);--> statement-breakpoint
CREATE TABLE `model_fits` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`params` text NOT NULL,
	`diagnostics` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `model_fits_program_idx` ON `model_fits` (`program_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `referrals` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`referee_id` text NOT NULL,
	`status` text NOT NULL,
	`order_id` text,
	`referrer_points` integer DEFAULT 0 NOT NULL,
	`referee_points` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`rewarded_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `referrals_referee_uq` ON `referrals` (`referee_id`);--> statement-breakpoint
CREATE INDEX `referrals_referrer_idx` ON `referrals` (`referrer_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `rewards` (
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
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rewards_program_idx` ON `rewards` (`program_id`);--> statement-breakpoint
CREATE TABLE `rule_member_usage` (
	`rule_id` text NOT NULL,
	`member_id` text NOT NULL,
	`points` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rule_usage_uq` ON `rule_member_usage` (`rule_id`,`member_id`);--> statement-breakpoint
CREATE TABLE `segment_members` (
	`segment_id` text NOT NULL,
	`member_id` text NOT NULL,
	`program_id` text NOT NULL,
	`added_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `segment_members_uq` ON `segment_members` (`segment_id`,`member_id`);--> statement-breakpoint
CREATE INDEX `segment_members_member_idx` ON `segment_members` (`member_id`);--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`rule` text NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`computed_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `segments_program_idx` ON `segments` (`program_id`);--> statement-breakpoint
CREATE TABLE `tiers` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`rank` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tiers_program_rank_uq` ON `tiers` (`program_id`,`rank`);--> statement-breakpoint
CREATE TABLE `acquisition_spend` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`channel` text NOT NULL,
	`period` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `acq_spend_uq` ON `acquisition_spend` (`program_id`,`channel`,`period`);--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`period` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`spent_minor` integer DEFAULT 0 NOT NULL,
	`acquisition_spend_minor` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `budgets_program_period_uq` ON `budgets` (`program_id`,`period`);--> statement-breakpoint
CREATE TABLE `campaign_occurrences` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`member_id` text NOT NULL,
	`occurrence_key` text NOT NULL,
	`variant_key` text,
	`outcome` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_occ_uq` ON `campaign_occurrences` (`campaign_id`,`member_id`,`occurrence_key`);--> statement-breakpoint
CREATE INDEX `campaign_occ_member_idx` ON `campaign_occurrences` (`campaign_id`,`member_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`definition` text NOT NULL,
	`budget_minor` integer,
	`spent_minor` integer DEFAULT 0 NOT NULL,
	`acquisition_channel` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaigns_program_trigger_idx` ON `campaigns` (`program_id`,`trigger`,`status`);--> statement-breakpoint
CREATE TABLE `experiment_exposures` (
	`experiment_id` text NOT NULL,
	`member_id` text NOT NULL,
	`program_id` text NOT NULL,
	`variant_key` text NOT NULL,
	`exposed_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `exposures_uq` ON `experiment_exposures` (`experiment_id`,`member_id`);--> statement-breakpoint
CREATE INDEX `exposures_variant_idx` ON `experiment_exposures` (`experiment_id`,`variant_key`);--> statement-breakpoint
CREATE TABLE `experiments` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`status` text NOT NULL,
	`definition` text NOT NULL,
	`started_at` text NOT NULL,
	`stopped_at` text,
	`winner` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_campaign_uq` ON `experiments` (`campaign_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`campaign_id` text,
	`member_id` text NOT NULL,
	`channel` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`last_error` text,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE INDEX `messages_due_idx` ON `messages` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `messages_campaign_idx` ON `messages` (`campaign_id`,`id`);--> statement-breakpoint
CREATE TABLE `partner_events` (
	`program_id` text NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`status` integer NOT NULL,
	`result` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `partner_events_uq` ON `partner_events` (`program_id`,`event_id`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`last_status_code` integer,
	`last_error` text,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_webhook_event_uq` ON `webhook_deliveries` (`webhook_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `deliveries_webhook_idx` ON `webhook_deliveries` (`webhook_id`,`id`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`url` text NOT NULL,
	`event_types` text NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_until` text,
	`status` text NOT NULL,
	`disabled_reason` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhooks_program_idx` ON `webhooks` (`program_id`);