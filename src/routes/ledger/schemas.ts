import { z } from "@hono/zod-openapi";
import { entryTypes } from "../../../schema";
import { reportedKindProblem } from "../../domain/rules/schema";
import { Iso } from "../../lib/openapi";

const Points = z.number().int("points must be a whole number").positive().max(1_000_000_000);
const Money = z.number().int("amounts are integer minor units (e.g. cents)").positive().max(1_000_000_000_000);

/** `debt`: points the member owes after a clawback found them spent, repaid first from new points (not part of `total`). */
export const Debt = z.number().int().nonnegative().openapi({
  description: "Points owed after a refund (or referral reversal) found them already spent; repaid first from the member's next points",
});

/** `reserved`: points held by uncaptured checkout reserves: out of `available` and `total` until captured, voided or expired. */
export const Reserved = z.number().int().nonnegative().openapi({
  description: "Points held by uncaptured checkout reserves (`capture: false`); they come back if voided or expired",
});

export const BalanceSchema = z
  .object({ available: z.number().int(), pending: z.number().int(), reserved: Reserved, total: z.number().int(), debt: Debt })
  .openapi("Balance", { example: { available: 1200, pending: 130, reserved: 0, total: 1330, debt: 0 } });

export const EntrySchema = z
  .object({
    id: z.string(),
    type: z.enum(entryTypes),
    points: z.number().int(),
    debt: z.number().int().openapi({ description: "Change in the member's points debt: + owed by a clawback, − repaid (a `debt` entry)" }),
    reason: z.string(),
    sourceType: z.string(),
    sourceId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("LedgerEntry", {
    example: {
      id: "led_01jd…",
      type: "earn",
      points: 130,
      debt: 0,
      reason: "Purchase order-1001",
      sourceType: "order",
      sourceId: "order-1001",
      createdAt: "2026-11-25T10:00:00.000Z",
    },
  });

export const LedgerWriteSchema = z
  .object({ entries: z.array(EntrySchema), balance: BalanceSchema })
  .passthrough()
  .openapi("LedgerWrite", {
    example: {
      entries: [
        {
          id: "led_01jd…",
          type: "earn",
          points: 130,
          debt: 0,
          reason: "Purchase order-1001",
          sourceType: "order",
          sourceId: "order-1001",
          createdAt: "2026-11-25T10:00:00.000Z",
        },
      ],
      balance: { available: 1200, pending: 130, reserved: 0, total: 1330, debt: 0 },
    },
  });

export const CartItem = z.object({
  sku: z.string().min(1).max(128),
  category: z.string().min(1).max(128).optional(),
  quantity: z.number().int().positive().max(100_000),
  unitPrice: z.number().int().nonnegative().max(1_000_000_000_000),
});

/** An activity kind a client may report: anything but the bonuses the system awards itself. */
export const ReportedKind = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .superRefine((kind, ctx) => {
    const problem = reportedKindProblem(kind);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({
    description:
      "review, survey, or a custom kind (store_checkin, app_login, …) that the program's `activity` rules name. " +
      "signup, birthday and referral are awarded by the system only and are refused (400).",
    example: "store_checkin",
  });

export const AccrualBody = z
  .object({
    orderId: z.string().trim().min(1).max(128),
    amount: Money,
    currency: z.string().regex(/^[A-Za-z]{3}$/, "currency is an ISO 4217 code such as USD"),
    items: z.array(CartItem).max(500).optional(),
    channel: z.string().min(1).max(64).optional(),
    storeId: z.string().min(1).max(128).optional(),
    occurredAt: Iso()
      .optional()
      .openapi({
        description:
          "When the purchase happened (default: now): at most 5 minutes ahead of the server clock and, except with an admin key, " +
          "no older than the program's back-dating window (default 30 days). The earning rules run as of this time.",
      }),
  })
  .strict()
  .openapi("Accrual", {
    example: {
      orderId: "order-1001",
      amount: 12999,
      currency: "USD",
      items: [{ sku: "TSHIRT-1", category: "apparel", quantity: 1, unitPrice: 12999 }],
      channel: "web",
    },
  });

export const RedemptionBody = z
  .object({
    points: Points,
    reason: z.string().trim().min(1).max(500),
    capture: z.boolean().default(true).openapi({
      description: "false: reserve the points (they leave `available` and show as `reserved`) until captured, voided or expired",
    }),
    holdSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(1_800)
      .openapi({
        description: "How long a reserve holds its points (default 30 minutes, at most 7 days); then they come back by themselves",
      }),
  })
  .strict()
  .openapi("Redemption", { example: { points: 500, reason: "Checkout discount order-1002", capture: false } });

export const RedemptionIdParam = z.object({
  redemptionId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "redemptionId", in: "path" }, example: "rdm_01jd..." }),
});

/** Capture or reverse part of a redemption (default: all of what is left). */
export const RedemptionPointsBody = z
  .object({ points: Points.optional() })
  .strict()
  .openapi("RedemptionPoints", { example: { points: 300 } });

export const RedemptionViewSchema = z
  .object({
    id: z.string(),
    memberId: z.string(),
    status: z.enum(["reserved", "captured", "voided", "expired"]),
    points: z.number().int(),
    reservedPoints: z.number().int(),
    capturedPoints: z.number().int(),
    reversedPoints: z.number().int(),
    expiresAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("RedemptionRecord");

export const CheckoutResultSchema = z
  .object({
    redemption: RedemptionViewSchema,
    entries: z.array(EntrySchema),
    balance: BalanceSchema,
    pointsReturned: z.number().int().optional().openapi({ description: "Points that went back to the lots they came from" }),
    pointsLapsed: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Points whose original lot expired while they were out: not returned" }),
  })
  .openapi("CheckoutRedemption");

export const AdjustmentBody = z
  .object({
    points: z
      .number()
      .int()
      .refine((p) => p !== 0, "points must not be zero")
      .refine((p) => Math.abs(p) <= 1_000_000_000, "points too large"),
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .openapi("Adjustment", { example: { points: 250, reason: "Goodwill for late delivery" } });

export const RefundBody = z
  .object({ amount: Money, reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .openapi("Refund", { example: { amount: 4999, reason: "Returned one item" } });
