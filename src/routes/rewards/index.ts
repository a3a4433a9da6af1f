import type { RouteModule } from "../route";
import { createRewardRoute } from "./create-reward";
import { deleteRewardRoute } from "./delete-reward";
import { getRewardRoute } from "./get-reward";
import { listRewardsRoute } from "./list-rewards";
import { listMemberRewardsRoute } from "./member-rewards";
import { redeemRewardRoute } from "./redeem-reward";
import { updateRewardRoute } from "./update-reward";

export const rewardRoutes: RouteModule[] = [
  listRewardsRoute,
  createRewardRoute,
  getRewardRoute,
  updateRewardRoute,
  deleteRewardRoute,
  listMemberRewardsRoute,
  redeemRewardRoute,
];
