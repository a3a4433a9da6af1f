import * as getReferralProgram from "./get-referral-program";
import * as memberReferrals from "./member-referrals";
import * as putReferralProgram from "./put-referral-program";

export const referralRoutes = [memberReferrals, getReferralProgram, putReferralProgram];
