import type { RouteModule } from "../route";
import { getReferralProgramRoute } from "./get-referral-program";
import { listMemberReferralsRoute } from "./member-referrals";
import { setReferralProgramRoute } from "./put-referral-program";

export const referralRoutes: RouteModule[] = [listMemberReferralsRoute, getReferralProgramRoute, setReferralProgramRoute];
