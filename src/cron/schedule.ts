import { database } from "../db/client";
import { type Env, settingsOf } from "../env";
import { planCalendarExpiry, planNightlyRuns, resumeStalledRuns } from "../jobs/plan";
import { type JobRun, timedJob } from "../lib/telemetry";
import { retryPendingAwards } from "../services/campaigns/fire";
import { advanceJourneys } from "../services/campaigns/journeys";
import { deliverDueMessages } from "../services/campaigns/messages";
import { consumeOutboxEvents, runBroadcasts, runCalendarTriggers, runSegmentEntries } from "../services/campaigns/triggers";
import { autoStopExperiments } from "../services/experiments/experiments";
import { snapshotAllPrograms } from "../services/kpis/kpis";
import { expireLots, releasePendingLots } from "../services/ledger/lots";
import { resumeStalledMerges } from "../services/members/merge";
import { resealSecrets } from "../services/operations/reseal-secrets";
import { settleReferrals } from "../services/referrals/referrals";
import { expireCoupons } from "../services/rewards/coupons";
import { awardBirthdays } from "../services/rules/birthdays";
import { awardAnniversaries, issueTierBirthdayGifts } from "../services/tiers/calendar-gifts";
import { dispatchOutbox, sweepDueDeliveries } from "../services/webhooks/delivery";
import type { CronJob } from "./job";
import { recordJobRuns } from "./job-runs";

/**
 * Every cron expression the Worker is triggered by and the jobs it runs, in order. The keys
 * must match `[triggers] crons` in wrangler.toml (test/api/schedule.test.ts checks it).
 */
export const schedule = {
  "* * * * *": [
    // Referrers are credited (or reversed) through their own Durable Object within a minute.
    { name: "referrals.settle", run: ({ env, now, batchSize }) => settleReferrals(env, database(env), batchSize, now) },
    // Dispatch first so events that just became deliveries are sent in the same tick.
    { name: "webhooks.dispatch", run: ({ env, now, batchSize }) => dispatchOutbox(env, now, batchSize) },
    { name: "webhooks.deliver", run: ({ env, now, batchSize }) => sweepDueDeliveries(env, now, batchSize) },
    // Event-driven campaign triggers (welcome, tier up, stage change) read the outbox; broadcasts
    // go out from their send time; awards that could not reach a ledger are retried.
    { name: "campaigns.events", run: ({ env, now, batchSize }) => consumeOutboxEvents(env, now, batchSize) },
    { name: "campaigns.broadcasts", run: ({ env, now, batchSize }) => runBroadcasts(env, now, batchSize) },
    { name: "campaigns.segment-entries", run: ({ env, now, batchSize }) => runSegmentEntries(env, now, batchSize) },
    { name: "campaigns.awards.retry", run: ({ env, now, batchSize }) => retryPendingAwards(env, now, batchSize) },
    // Journey runs whose next step is due (members who just entered start in the same tick).
    { name: "journeys.advance", run: ({ env, now, batchSize }) => advanceJourneys(env, now, batchSize) },
    // Campaign messages go to the program's channel endpoints, retried with backoff.
    { name: "messages.deliver", run: ({ env, now, batchSize }) => deliverDueMessages(env, now, batchSize) },
  ],
  "*/5 * * * *": [
    { name: "lots.release", run: async ({ env, now, batchSize }) => releasePendingLots(database(env), now, batchSize) },
    { name: "lots.expire", run: async ({ env, now, batchSize }) => expireLots(database(env), now, batchSize) },
    // Calendar expiry (end of month / quarter / year) is only planned here: per program and member
    // shard on the loyalty-jobs queue, as millions of lots fall due at one instant.
    { name: "lots.expire.plan", run: ({ env, now }) => planCalendarExpiry(env, now) },
    // Stored signing secrets still sealed under the previous SECRETS_KEK (or in the clear) are resealed.
    { name: "secrets.reseal", run: ({ env, batchSize }) => resealSecrets(env, batchSize) },
    // Fanned-out runs that stopped making progress (a killed consumer, a dropped message) continue with the shards not done.
    { name: "jobs.resume", run: ({ env, now }) => resumeStalledRuns(env, now) },
    // Member merges stopped half way (and not asked for again) finish, so their members are not left locked.
    { name: "members.merges.resume", run: ({ env, now, batchSize }) => resumeStalledMerges(env, now, batchSize) },
  ],
  // Jobs tied to a program's local midnight: hourly, each acting once per program per local
  // day once that day has begun in the program's time zone (src/services/program/local-day.ts).
  "0 * * * *": [
    { name: "rules.birthday", run: awardBirthdays },
    // Tier birthday gifts (a catalog reward as a coupon) and membership anniversary milestones.
    { name: "tiers.birthday-gifts", run: (args) => issueTierBirthdayGifts(args) },
    { name: "rules.anniversary", run: (args) => awardAnniversaries(args) },
    // Calendar triggers (birthdays, points about to expire, anniversaries, close to the next tier, tier at risk).
    { name: "campaigns.calendar", run: ({ env, now, batchSize }) => runCalendarTriggers(env, now, batchSize) },
    // One KPI snapshot per program per local day (the day that just ended), for the trend charts.
    { name: "kpis.snapshot", run: ({ env, now }) => snapshotAllPrograms(database(env), now) },
  ],
  "0 3 * * *": [
    // Tier requalification and the analytics chain (fit → scores → RFM → lifecycle → segments) are
    // only planned here: per program and shard on the loyalty-jobs queue (src/jobs/).
    { name: "jobs.plan", run: ({ env, now }) => planNightlyRuns(env, now) },
    // Unused coupons past their expiry become `expired` (breakage).
    { name: "coupons.expire", run: ({ env, now, batchSize }) => expireCoupons({ db: database(env) }, now, batchSize) },
    // Experiments' stop rule.
    { name: "experiments.stop-rule", run: ({ env, now }) => autoStopExperiments(env, now) },
  ],
} as const satisfies Record<string, readonly CronJob[]>;

type CronExpression = keyof typeof schedule;

/** Run the jobs of a cron expression in order; one failure does not stop the rest. Each run is logged, measured and recorded. */
export async function runScheduled(cron: string, env: Env, now = new Date()) {
  const { CRON_BATCH_SIZE } = settingsOf(env);
  const jobs: readonly CronJob[] = schedule[cron as CronExpression] ?? [];
  const results: Record<string, unknown> = {};
  const runs: JobRun[] = [];
  for (const job of jobs) {
    // The next tick retries a failed job; the jobs are idempotent and resumable.
    const outcome = await timedJob(env, { job: job.name, trigger: cron }, () => job.run({ env, now, batchSize: CRON_BATCH_SIZE }));
    results[job.name] = outcome.ok ? outcome.result : { error: String(outcome.error) };
    runs.push(outcome.run);
  }
  await recordJobRuns(env, runs);
  return results;
}
