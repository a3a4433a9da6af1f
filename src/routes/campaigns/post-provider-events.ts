import { z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { LEGACY_SIGNATURE_HEADER, STANDARD_HEADERS, verifyInboundSignature } from "../../lib/signing";
import {
  channelSigningSecrets,
  MAX_PROVIDER_EVENTS,
  PROVIDER_EVENT_TYPES,
  providerEventBatchSchema,
  recordProviderEvents,
} from "../../services/campaigns/provider-events";
import { defineRoute } from "../route";
import { ChannelParam } from "./schemas";

const ProviderEventBatch = z
  .object({
    events: z
      .array(
        z.object({
          id: z.string().openapi({ description: "The provider's id for the event; a resend is recorded once" }),
          messageId: z.string().openapi({ description: "The message's id (the delivered payload's id and webhook-id)" }),
          type: z.enum(PROVIDER_EVENT_TYPES),
          occurredAt: z.string().optional().openapi({ description: "ISO 8601; default the time received" }),
        }),
      )
      .min(1)
      .max(MAX_PROVIDER_EVENTS),
  })
  .openapi("ProviderEventBatch");

const ProviderEventResults = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        messageId: z.string(),
        type: z.string(),
        status: z.enum(["recorded", "duplicate", "unknown_message"]),
      }),
    ),
  })
  .openapi("ProviderEventResults");

export const postProviderEventsRoute = defineRoute(
  {
    operationId: "channels.events.create",
    // A machine caller: the key names the program, the channel secret's signature proves the provider.
    principals: { scopes: ["admin"], staff: null },
    components: { schemas: { ProviderEventBatch } },
    method: "post",
    path: "/v1/channels/{channel}/events",
    tags: ["Campaigns"],
    summary: "Post a channel provider's engagement events (delivered, opened, clicked, bounced, complained, unsubscribed)",
    description: `The raw body must be signed with the channel endpoint's secret (the \`whsec_…\` returned by PUT /v1/channels/{channel}) exactly as inbound partner events are: Standard Webhooks headers (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`), or the deprecated \`X-Loyalty-Signature\`. A bad signature is 401 invalid_signature, as is any request for a channel without an endpoint (no secret to verify with).
Body: \`{"events": [...]}\` with 1 to ${MAX_PROVIDER_EVENTS} events, each naming a message of this program on this channel. Each event is recorded once by its provider id (a resend answers \`duplicate\`); an unknown message answers \`unknown_message\` without failing the batch.
Effects, in the same write as the event: \`unsubscribed\` withdraws the member's consent to the channel at once; \`bounced\` and \`complained\` stop the channel for the member (later messages are \`skipped_suppressed\`). Opens and clicks feed GET /v1/campaigns/{campaignId}/engagement, journey branches and experiments whose conversion is \`opened\` or \`clicked\`.`,
    request: {
      params: ChannelParam,
      headers: z.object({
        [STANDARD_HEADERS.id]: z.string().optional(),
        [STANDARD_HEADERS.timestamp]: z.string().optional(),
        [STANDARD_HEADERS.signature]: z.string().optional(),
        [LEGACY_SIGNATURE_HEADER]: z.string().optional().openapi({ deprecated: true }),
      }),
      // Documented here, validated in the handler: the signature covers the raw bytes.
      body: {
        required: true,
        content: {
          "application/json": {
            schema: { $ref: "#/components/schemas/ProviderEventBatch" },
            example: {
              events: [
                { id: "evt-9001", messageId: "msg_01jd7y4m3a5b6c7d8e9f0g1h2q", type: "opened", occurredAt: "2026-11-25T10:03:00Z" },
                { id: "evt-9002", messageId: "msg_01jd7y4m3a5b6c7d8e9f0g1h2q", type: "clicked", occurredAt: "2026-11-25T10:04:00Z" },
              ],
            },
          },
        },
      },
    },
    responses: { 200: jsonResponse(ProviderEventResults, "One result per event, in order"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const { channel } = c.req.valid("param");
    const raw = await c.req.text();
    const verdict = await verifyInboundSignature({
      header: (name) => c.req.header(name),
      body: raw,
      secrets: await channelSigningSecrets(c.var.ctx, programId, channel),
    });
    if (!verdict.ok) throw new AppError("invalid_signature", verdict.message, { reason: verdict.reason, scheme: verdict.scheme });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new AppError("invalid_request", "The body is not valid JSON");
    }
    const parsed = providerEventBatchSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
      throw new AppError("invalid_request", `Invalid events: ${fields.map((f) => `${f.path || "(root)"}: ${f.message}`).join("; ")}`, {
        fields,
      });
    }
    return c.json(await recordProviderEvents({ ctx: c.var.ctx, input: { programId, channel, events: parsed.data.events } }), 200);
  },
);
