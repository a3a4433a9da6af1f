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
      "Newest first, cursor-paged. Statuses: pending (queued or retrying; see attempts, nextAttemptAt, lastError), delivered, failed (gave up after retries), skipped_no_consent, skipped_no_endpoint. The summary counts all of the campaign's messages by status.",
    request: {
      params: CampaignIdParam,
      query: PaginationQuery.extend({
        status: z.enum(["pending", "delivered", "failed", "skipped_no_consent", "skipped_no_endpoint"]).optional(),
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
