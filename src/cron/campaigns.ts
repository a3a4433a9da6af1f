import { addCronJob, schedules } from "../registry";
import { retryPendingAwards } from "../services/campaigns-fire";
import { consumeOutboxEvents, runBroadcasts, runCalendarTriggers } from "../services/campaigns-triggers";
import { autoStopExperiments } from "../services/experiments";

// Event-driven triggers (welcome, tier up, stage change) read the outbox every minute;
// broadcasts go out from their send time; awards that could not reach a ledger are retried.
addCronJob(schedules.everyMinute, { name: "campaigns.events", run: ({ env, now, batchSize }) => consumeOutboxEvents(env, now, batchSize) });
addCronJob(schedules.everyMinute, { name: "campaigns.broadcasts", run: ({ env, now, batchSize }) => runBroadcasts(env, now, batchSize) });
addCronJob(schedules.everyMinute, {
  name: "campaigns.awards.retry",
  run: ({ env, now, batchSize }) => retryPendingAwards(env, now, batchSize),
});

// Calendar triggers (birthdays, points about to expire) once a day; experiments' stop rule nightly.
addCronJob(schedules.nightly, { name: "campaigns.calendar", run: ({ env, now, batchSize }) => runCalendarTriggers(env, now, batchSize) });
addCronJob(schedules.nightly, { name: "experiments.stop-rule", run: ({ env, now }) => autoStopExperiments(env, now) });
