import type { RouteModule } from "../route";
import { createWebhookRoute } from "./create-webhook";
import { deleteWebhookRoute } from "./delete-webhook";
import { getWebhookRoute } from "./get-webhook";
import { listWebhookDeliveriesRoute } from "./list-deliveries";
import { listWebhooksRoute } from "./list-webhooks";
import { redeliverWebhookDeliveryRoute } from "./redeliver";
import { rotateWebhookSecretRoute } from "./rotate-secret";
import { updateWebhookRoute } from "./update-webhook";

export const webhookRoutes: RouteModule[] = [
  createWebhookRoute,
  listWebhooksRoute,
  getWebhookRoute,
  updateWebhookRoute,
  deleteWebhookRoute,
  rotateWebhookSecretRoute,
  listWebhookDeliveriesRoute,
  redeliverWebhookDeliveryRoute,
];
