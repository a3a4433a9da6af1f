CREATE TABLE `job_runs` (
	`job` text PRIMARY KEY NOT NULL,
	`trigger` text NOT NULL,
	`started_at` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`outcome` text NOT NULL,
	`rows` integer NOT NULL,
	`error` text,
	`last_success_at` text
);
