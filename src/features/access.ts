// Access and partner integration (DESIGN.md capabilities 14, 15, 17): partner webhooks in,
// webhooks out, API keys, rate limits (src/middleware/rate-limit.ts, wired in auth) and audit.
import { addCronJob, addRoutes, schedules } from "../registry";
import * as listAudit from "../routes/audit/list-audit";
import * as createKey from "../routes/keys/create-key";
import * as listKeys from "../routes/keys/list-keys";
import * as revokeKey from "../routes/keys/revoke-key";
import * as postPartnerEvents from "../routes/partner/post-events";
import * as rotatePartnerSecret from "../routes/partner/rotate-signing-secret";
import * as createWebhook from "../routes/webhooks/create-webhook";
import * as deleteWebhook from "../routes/webhooks/delete-webhook";
import * as getWebhook from "../routes/webhooks/get-webhook";
import * as listDeliveries from "../routes/webhooks/list-deliveries";
import * as listWebhooks from "../routes/webhooks/list-webhooks";
import * as redeliver from "../routes/webhooks/redeliver";
import * as rotateWebhookSecret from "../routes/webhooks/rotate-secret";
import * as testReceiver from "../routes/webhooks/test-receiver";
import * as updateWebhook from "../routes/webhooks/update-webhook";
import { dispatchOutbox, sweepDueDeliveries } from "../services/webhooks-delivery";

addRoutes(
  postPartnerEvents,
  rotatePartnerSecret,
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  listDeliveries,
  redeliver,
  createKey,
  listKeys,
  revokeKey,
  listAudit,
  testReceiver,
);

// Dispatch first so events that just became deliveries are sent in the same tick.
addCronJob(schedules.everyMinute, { name: "webhooks.dispatch", run: ({ env, now, batchSize }) => dispatchOutbox(env, now, batchSize) });
addCronJob(schedules.everyMinute, { name: "webhooks.deliver", run: ({ env, now, batchSize }) => sweepDueDeliveries(env, now, batchSize) });
