import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { putChannel } from "../../services/campaigns/channels";
import { defineRoute } from "../route";
import { ChannelParam, ChannelSchema } from "./schemas";

const PutChannelBody = z
  .object({
    url: z.url().max(2000).openapi({
      description: "A public https endpoint (internal and special-purpose addresses are refused)",
      example: "https://messaging.example.com/loyalty/email",
    }),
    rotateSecret: z.boolean().optional().openapi({ description: "Issue a new signing secret (returned once)" }),
  })
  .strict()
  .openapi("PutChannel", { example: { url: "https://messaging.example.com/loyalty/email" } });

export const setChannelRoute = defineRoute(
  {
    operationId: "channels.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/channels/{channel}",
    tags: ["Campaigns"],
    summary: "Set the HTTP endpoint a message channel delivers to",
    description:
      'Campaign messages on this channel (email, sms, push, line, wechat) are POSTed as JSON to the url, signed like partner webhooks, with both schemes: Standard Webhooks (webhook-id = the message id, webhook-timestamp, webhook-signature; verify with any standardwebhooks library) and the deprecated X-Loyalty-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. The secret is returned when the endpoint is first created or rotateSecret is true. Non-2xx answers are retried with exponential backoff. Audited.',
    request: { params: ChannelParam, body: jsonBody(PutChannelBody) },
    responses: {
      201: jsonResponse(ChannelSchema, "Endpoint created (with its secret)"),
      200: jsonResponse(ChannelSchema, "Endpoint updated"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { channel } = c.req.valid("param");
    const result = await putChannel({ ctx: c.var.ctx, input: { programId, channel, ...c.req.valid("json") } });
    return c.json(result.channel, result.created ? 201 : 200);
  },
);
