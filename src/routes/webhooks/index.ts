import type { RouteModule } from "../route";
import * as createWebhook from "./create-webhook";
import * as deleteWebhook from "./delete-webhook";
import * as getWebhook from "./get-webhook";
import * as listDeliveries from "./list-deliveries";
import * as listWebhooks from "./list-webhooks";
import * as redeliver from "./redeliver";
import * as rotateSecret from "./rotate-secret";
import * as testReceiver from "./test-receiver";
import * as updateWebhook from "./update-webhook";

export const webhookRoutes: RouteModule[] = [
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateSecret,
  listDeliveries,
  redeliver,
  testReceiver,
];
