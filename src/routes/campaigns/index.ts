import type { RouteModule } from "../route";
import { getContactPolicyRoute, putContactPolicyRoute } from "./contact-policy";
import { campaignCrudRoutes } from "./crud";
import { deleteChannelRoute } from "./delete-channel";
import { getCampaignEngagementRoute } from "./engagement";
import { createFromJourneyTemplateRoute, listJourneyTemplatesRoute } from "./journey-templates";
import { listChannelsRoute } from "./list-channels";
import { listCampaignMessagesRoute } from "./list-messages";
import { listCampaignOccurrencesRoute } from "./list-occurrences";
import { postProviderEventsRoute } from "./post-provider-events";
import { setChannelRoute } from "./put-channel";
import { getCampaignRoiRoute } from "./roi";

export const campaignRoutes: RouteModule[] = [
  ...campaignCrudRoutes,
  listCampaignMessagesRoute,
  listCampaignOccurrencesRoute,
  getCampaignRoiRoute,
  listChannelsRoute,
  setChannelRoute,
  deleteChannelRoute,
  postProviderEventsRoute,
  getCampaignEngagementRoute,
  listJourneyTemplatesRoute,
  createFromJourneyTemplateRoute,
  getContactPolicyRoute,
  putContactPolicyRoute,
];
