import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { campaignEngagement } from "../../services/campaigns/engagement";
import { defineRoute } from "../route";
import { CampaignIdParam } from "./schemas";

const rate = z.number().nullable().openapi({ description: "Over the messages sent; null when none were sent" });
const MessageKpis = z
  .object({
    messages: z.int().openapi({ description: "Written (whatever their status)" }),
    sent: z.int().openapi({ description: "Handed to the channel's provider (status delivered)" }),
    delivered: z.int().openapi({ description: "Reported delivered by the provider" }),
    opened: z.int().openapi({ description: "Opened (a click counts as an open)" }),
    clicked: z.int(),
    bounced: z.int(),
    complained: z.int(),
    unsubscribed: z.int(),
    converted: z.int().openapi({ description: "Followed by a purchase within conversionDays of being sent" }),
    deliveryRate: rate,
    openRate: rate,
    clickRate: rate,
    conversionRate: rate,
    unsubscribeRate: rate,
  })
  .openapi("MessageKpis");

const EngagementSchema = z
  .object({
    campaignId: z.string(),
    conversionDays: z.int(),
    messages: MessageKpis,
    journey: z
      .object({
        runs: z.object({
          entered: z.int(),
          active: z.int(),
          completed: z.int(),
          exited: z.int(),
          holdout: z.int().openapi({ description: "Members held out by the experiment at entry (no run)" }),
          exitReasons: z.record(z.string(), z.int()),
        }),
        steps: z.array(
          z.object({
            stepId: z.string(),
            type: z.enum(["send", "wait", "branch", "award", "exit"]),
            reached: z.int().openapi({ description: "Runs that executed this step" }),
            outcomes: z
              .record(z.string(), z.int())
              .openapi({ description: "sent / skipped_no_consent, waited, yes / no, awarded / refused:<code>, exited" }),
            messages: MessageKpis.nullable(),
          }),
        ),
      })
      .nullable()
      .openapi({ description: "The funnel, for a journey campaign" }),
  })
  .openapi("CampaignEngagement");

export const getCampaignEngagementRoute = defineRoute(
  {
    operationId: "campaigns.engagement.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/campaigns/{campaignId}/engagement",
    tags: ["Campaigns"],
    summary: "Message KPIs of a campaign (per journey step) and a journey's funnel",
    description:
      "Delivery, open, click, conversion within conversionDays and unsubscribe rates from the channel providers' events (POST /v1/channels/{channel}/events); for a journey, the runs and what each step did.",
    request: {
      params: CampaignIdParam,
      query: z.object({ conversionDays: z.coerce.number().int().min(1).max(365).default(7) }),
    },
    responses: { 200: jsonResponse(EngagementSchema, "The campaign's engagement"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { campaignId } = c.req.valid("param");
    const { conversionDays } = c.req.valid("query");
    return c.json((await campaignEngagement({ ctx: c.var.ctx, input: { programId, campaignId, conversionDays } })) as never, 200);
  },
);
