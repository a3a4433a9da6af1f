import type { RouteModule } from "../route";
import { campaignCrudRoutes } from "./crud";
import { deleteChannelRoute } from "./delete-channel";
import { listChannelsRoute } from "./list-channels";
import { listCampaignMessagesRoute } from "./list-messages";
import { listCampaignOccurrencesRoute } from "./list-occurrences";
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
];
