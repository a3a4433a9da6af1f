import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listCampaignMessages } from "../../services/campaigns/messages";
import { defineRoute } from "../route";
import { CampaignIdParam, MessageSchema } from "./schemas";

export const listCampaignMessagesRoute = defineRoute(
  {
    operationId: "campaigns.messages.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/campaigns/{campaignId}/messages",
    tags: ["Campaigns"],
    summary: "A campaign's messages and their delivery status",
    description:
      "Newest first, cursor-paged. Statuses: pending (queued, retrying or waiting for quiet hours to end; see attempts, nextAttemptAt, lastError), delivered, failed (gave up after retries), skipped_no_consent, skipped_no_endpoint, skipped_suppressed (the channel was stopped for the member after a bounce or complaint), skipped_contact_policy (over the program's per-member daily or weekly cap). A journey's messages carry their journeyRunId and stepId. The summary counts all of the campaign's messages by status.",
    request: {
      params: CampaignIdParam,
      query: PaginationQuery.extend({
        status: MessageSchema.shape.status.optional(),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ summary: z.record(z.string(), z.number()), data: z.array(MessageSchema), nextCursor: z.string().nullable() }),
        "A page of messages",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { campaignId } = c.req.valid("param");
    return c.json(
      (await listCampaignMessages({ ctx: c.var.ctx, input: { programId, campaignId, ...c.req.valid("query") } })) as never,
      200,
    );
  },
);
