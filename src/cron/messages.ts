import { addCronJob, schedules } from "../registry";
import { deliverDueMessages } from "../services/messages";

// Campaign messages: delivered to the program's channel endpoints every minute, retried with backoff.
addCronJob(schedules.everyMinute, { name: "messages.deliver", run: ({ env, now, batchSize }) => deliverDueMessages(env, now, batchSize) });
