import type { RouteModule } from "../route";
import { campaignCrudRoutes } from "./crud";
import * as deleteChannel from "./delete-channel";
import * as listChannels from "./list-channels";
import * as listMessages from "./list-messages";
import * as listOccurrences from "./list-occurrences";
import * as putChannel from "./put-channel";
import * as roi from "./roi";

export const campaignRoutes: RouteModule[] = [
  ...campaignCrudRoutes,
  listMessages,
  listOccurrences,
  roi,
  listChannels,
  putChannel,
  deleteChannel,
];
