CREATE TABLE `program_job_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`program_id` text NOT NULL,
	`job` text NOT NULL,
	`run_key` text NOT NULL,
	`as_of` text NOT NULL,
	`status` text NOT NULL,
	`params` text,
	`shards_total` integer DEFAULT 0 NOT NULL,
	`shards_done` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	`progress_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `program_job_runs_key_idx` ON `program_job_runs` (`program_id`,`job`,`run_key`);--> statement-breakpoint
CREATE INDEX `program_job_runs_program_idx` ON `program_job_runs` (`program_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `program_job_runs_status_idx` ON `program_job_runs` (`status`,`progress_at`);--> statement-breakpoint
CREATE TABLE `program_job_shards` (
	`run_id` text NOT NULL,
	`shard` integer NOT NULL,
	`from_rowid` integer NOT NULL,
	`to_rowid` integer,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`error` text,
	`queued_at` text,
	`done_at` text,
	PRIMARY KEY(`run_id`, `shard`)
);
--> statement-breakpoint
CREATE INDEX `program_job_shards_status_idx` ON `program_job_shards` (`run_id`,`status`,`shard`);