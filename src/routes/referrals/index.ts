import type { RouteModule } from "../route";
import * as getReferralProgram from "./get-referral-program";
import * as memberReferrals from "./member-referrals";
import * as putReferralProgram from "./put-referral-program";

export const referralRoutes: RouteModule[] = [memberReferrals, getReferralProgram, putReferralProgram];
