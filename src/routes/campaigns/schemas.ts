import { z } from "@hono/zod-openapi";
import { CHANNELS } from "../../domain/campaigns/definition";

export const CampaignIdParam = z.object({
  campaignId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "campaignId", in: "path" }, example: "cmp_01jd..." }),
});
export const ChannelParam = z.object({ channel: z.enum(CHANNELS).openapi({ param: { name: "channel", in: "path" }, example: "email" }) });

export const CampaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["draft", "active", "paused", "ended"]),
    trigger: z.record(z.string(), z.unknown()),
    budgetMinor: z.number().int().nullable(),
    spentMinor: z.number().int(),
    remainingBudgetMinor: z.number().int().nullable(),
    experiment: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi("Campaign");

export const campaignExample = {
  name: "Welcome bonus",
  trigger: { type: "welcome" },
  actions: [
    { type: "award_points", points: 100 },
    { type: "send_message", channel: "email", template: "Hello {{name}}, welcome! You have {{balance}} points." },
  ],
  frequencyCap: { max: 1, perDays: 365 },
  budgetMinor: 500000,
  experiment: {
    variants: [
      { key: "points100", weight: 1 },
      {
        key: "points200",
        weight: 1,
        actions: [
          { type: "award_points", points: 200 },
          { type: "send_message", channel: "email", template: "Hello {{name}}, here are {{points}} points!" },
        ],
      },
    ],
    holdoutPct: 10,
    conversion: { type: "purchase", windowDays: 30 },
    minimumDetectableEffect: 0.02,
    maxDurationDays: 30,
  },
};

export const MessageSchema = z
  .object({
    id: z.string(),
    memberId: z.string(),
    channel: z.enum(CHANNELS),
    body: z.string(),
    status: z.enum([
      "pending",
      "delivered",
      "failed",
      "skipped_no_consent",
      "skipped_no_endpoint",
      "skipped_suppressed",
      "skipped_contact_policy",
    ]),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    journeyRunId: z.string().nullable(),
    stepId: z.string().nullable(),
  })
  .openapi("CampaignMessage");

export const ChannelSchema = z
  .object({
    channel: z.enum(CHANNELS),
    url: z.string(),
    secret: z.string().optional().openapi({ description: "The signing secret; returned only when created or rotated" }),
    secretHint: z.string(),
    updatedAt: z.string(),
  })
  .openapi("ChannelEndpoint");
