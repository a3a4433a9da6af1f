import { recordJobRuns } from "./cron/job-runs";
import type { Env } from "./env";
import { consumeJobBatch } from "./jobs/consumer";
import type { JobMessage } from "./jobs/runs";
import { timedJob } from "./lib/telemetry";
import { consumeWebhookBatch, type WebhookMessage } from "./services/webhooks/delivery";

type QueueConsumer = (batch: MessageBatch<unknown>, env: Env) => Promise<void>;

/**
 * Every queue the Worker consumes and its handler. The keys must match `[[queues.consumers]]`
 * in wrangler.toml (test/api/schedule.test.ts checks it).
 */
export const queueConsumers = {
  // Outbound webhook deliveries, one attempt per message (the minute cron enqueues them).
  "loyalty-webhooks": (batch, env) => consumeWebhookBatch(batch as MessageBatch<WebhookMessage>, env),
  // Steps of the fanned-out nightly jobs: plan a run, or work one shard (src/jobs/).
  "loyalty-jobs": (batch, env) => consumeJobBatch(batch as MessageBatch<JobMessage>, env).then(() => {}),
} as const satisfies Record<string, QueueConsumer>;

/**
 * Hand a batch to its queue's consumer (logged, measured and recorded as the job `queue:<name>`);
 * a batch from a queue without one, or whose consumer throws, fails, so the queue retries it.
 */
export async function consumeQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const consume: QueueConsumer | undefined = queueConsumers[batch.queue as keyof typeof queueConsumers];
  if (!consume) throw new Error(`No consumer for queue ${batch.queue}`);
  const outcome = await timedJob(
    env,
    { job: `queue:${batch.queue}`, trigger: batch.queue },
    () => consume(batch, env),
    () => batch.messages.length,
  );
  await recordJobRuns(env, [outcome.run]);
  if (!outcome.ok) throw outcome.error;
}
