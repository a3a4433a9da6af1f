import type { RouteModule } from "../route";
import * as createReward from "./create-reward";
import * as deleteReward from "./delete-reward";
import * as getReward from "./get-reward";
import * as listRewards from "./list-rewards";
import * as memberRewards from "./member-rewards";
import * as redeemReward from "./redeem-reward";
import * as updateReward from "./update-reward";

export const rewardRoutes: RouteModule[] = [listRewards, createReward, getReward, updateReward, deleteReward, memberRewards, redeemReward];
