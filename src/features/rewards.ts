// Rewards catalog, redemption with coupons, and referrals (DESIGN capabilities 5 and 6):
// routes, the ledger planners/hooks they run in members' Durable Objects, and their crons.
import { database } from "../db/client";
import { addCronJob, addRoutes, schedules } from "../registry";
import { couponRoutes } from "../routes/coupons";
import { referralRoutes } from "../routes/referrals";
import { rewardRoutes } from "../routes/rewards";
import { expireCoupons } from "../services/coupons";
import { settleReferrals } from "../services/referrals";

addRoutes(...rewardRoutes, ...couponRoutes, ...referralRoutes);

// Referrers are credited (or reversed) through their own Durable Object within a minute.
addCronJob(schedules.everyMinute, {
  name: "referrals.settle",
  run: ({ env, batchSize }) => settleReferrals(env, database(env), batchSize),
});
// Unused coupons past their expiry become `expired` (breakage), in bounded batches.
addCronJob(schedules.nightly, {
  name: "coupons.expire",
  run: ({ env, now, batchSize }) => expireCoupons({ db: database(env) }, now, batchSize),
});
