import { z } from "@hono/zod-openapi";
import { CouponSchema } from "../../services/rewards/coupons";
import { BalanceSchema, EntrySchema } from "../ledger/schemas";

export const RewardIdParam = z.object({
  rewardId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "rewardId", in: "path" }, example: "rwd_01jd..." }),
});

export const MemberRewardParams = z.object({
  memberId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "memberId", in: "path" }, example: "mem_01jd..." }),
  rewardId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "rewardId", in: "path" }, example: "rwd_01jd..." }),
});

export const RedemptionResultSchema = z
  .object({ coupon: CouponSchema, entries: z.array(EntrySchema), balance: BalanceSchema })
  .openapi("RewardRedemption");
