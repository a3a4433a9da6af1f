import { z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { LEGACY_SIGNATURE_HEADER, LEGACY_SIGNATURE_SUNSET, STANDARD_HEADERS, verifyInboundSignature } from "../../lib/signing";
import { enforceRateLimit, rateLimitOf } from "../../middleware/rate-limit";
import { ingestPartnerEvents, partnerSigningSecrets, summarize } from "../../services/partner/events";
import { defineRoute } from "../route";
import { BatchResultSchema, EventResultSchema, MAX_EVENTS_PER_BATCH, PartnerBatch, PartnerEvent } from "./schemas";

export const postPartnerEventsRoute = defineRoute(
  {
    operationId: "partner.events.create",
    // The key names the program; the signature over the raw body (checked below) proves the sender.
    principals: { scopes: ["partner", "admin"] },
    components: { schemas: { PartnerEvent, PartnerEventBatch: PartnerBatch } },
    method: "post",
    path: "/v1/partner/events",
    tags: ["Partners"],
    summary: "Post signed partner events: sales, refunds, activities, member upserts and erasures",
    description: `The raw body must be signed with the program's partner signing secret (\`whsec_…\`) the **Standard Webhooks** way, as the \`standardwebhooks\` libraries do:
\`webhook-id\` (any unique message id), \`webhook-timestamp\` (unix seconds) and \`webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_, "<webhook-id>.<webhook-timestamp>.<raw body>")>\`.
A bad signature is 401 invalid_signature and a timestamp more than 5 minutes off is 401 (replay).
Deprecated: \`X-Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>\` is still accepted when no \`webhook-*\` header is sent, until ${LEGACY_SIGNATURE_SUNSET.toISOString().slice(0, 10)}; such answers carry \`Deprecation\` and \`Sunset\` headers.
Send one event, or \`{"events": [...]}\` with up to ${MAX_EVENTS_PER_BATCH}. Each event is idempotent by its own eventId: a resend returns the original result with replayed=true.
A single event answers with its own status (201 applied, 200 member updated, 202 recorded but unsupported) or its error;
While the database is out of reach, a sale naming the member by memberId is accepted into the member's queue: 202 with \`queued: true\` and the stored write as its result (README → Outages); other events are 503. a batch answers 200 with one result per event — some may be rejected (4xx with their error) while the others apply.
Sales name the member by memberId or externalId (an unknown externalId registers the member); refunds name the order.
A member.erase forwards a deletion request: the member's personal data is erased as by POST /v1/members/{memberId}/erase (an unknown externalId is 404, never registered).`,
    request: {
      headers: z.object({
        [STANDARD_HEADERS.id]: z.string().optional().openapi({ description: "Standard Webhooks message id", example: "msg_2mJ0…" }),
        [STANDARD_HEADERS.timestamp]: z.string().optional().openapi({ description: "Unix seconds", example: "1767225600" }),
        [STANDARD_HEADERS.signature]: z.string().optional().openapi({
          description: "v1,<base64 signature>, several space-separated",
          example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        }),
        [LEGACY_SIGNATURE_HEADER]: z.string().optional().openapi({
          deprecated: true,
          description: "The former scheme, accepted until the Sunset date",
          example: "t=1767225600,v1=5f8c…",
        }),
      }),
      // Documented here but validated per event in the handler: the signature covers the raw
      // bytes (verified before parsing) and a batch must not fail as a whole for one bad event.
      body: {
        required: true,
        content: {
          "application/json": {
            schema: { oneOf: [{ $ref: "#/components/schemas/PartnerEvent" }, { $ref: "#/components/schemas/PartnerEventBatch" }] },
            example: {
              events: [
                {
                  eventId: "pos-7781-sale-1001",
                  type: "sale",
                  externalId: "cust-1001",
                  orderId: "pos-7781-1001",
                  amount: 12999,
                  currency: "USD",
                  storeId: "store-12",
                },
                { eventId: "pos-7781-refund-1001", type: "refund", orderId: "pos-7781-1001", amount: 4999 },
                { eventId: "pos-7781-visit-88", type: "activity", externalId: "cust-1001", kind: "store_visit" },
                { eventId: "crm-5521", type: "member.upsert", externalId: "cust-1001", email: "ana@example.com", consent: { email: true } },
              ],
            },
          },
        },
      },
    },
    responses: {
      201: jsonResponse(EventResultSchema, "A single event applied (or its original result on resend)"),
      200: jsonResponse(
        z.union([BatchResultSchema, EventResultSchema]),
        "A batch: one result per event, in order; or a single member.upsert that updated an existing member",
      ),
      202: jsonResponse(
        EventResultSchema,
        "A single event recorded but not supported by this deployment, or a sale accepted while the database is out of reach (`queued`)",
      ),
      ...errorResponses(404, 409, 413, 503),
    },
  },
  async (c, principal) => {
    const { programId } = principal;
    const contentType = c.req.header("content-type");
    if (contentType && !/^application\/json\b/i.test(contentType))
      throw new AppError("unsupported_media_type", "Send the events as application/json");
    const raw = await c.req.text();
    const verdict = await verifyInboundSignature({
      header: (name) => c.req.header(name),
      body: raw,
      secrets: await partnerSigningSecrets(c.var.ctx, programId),
    });
    if (!verdict.ok) throw new AppError("invalid_signature", verdict.message, { reason: verdict.reason, scheme: verdict.scheme });
    if (verdict.scheme === "x-loyalty-signature") {
      // RFC 9745 / RFC 8594: tell the partner's tooling the scheme is on its way out, and when.
      c.header("deprecation", "true");
      c.header("sunset", LEGACY_SIGNATURE_SUNSET.toUTCString());
    }

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new AppError("invalid_request", "The body is not valid JSON");
    }
    const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
    if (isBatch) {
      const events = (body as { events: unknown }).events;
      if (
        !Array.isArray(events) ||
        events.length === 0 ||
        events.length > MAX_EVENTS_PER_BATCH ||
        Object.keys(body as object).length !== 1
      ) {
        throw new AppError("invalid_request", `A batch is {"events": [...]} with 1 to ${MAX_EVENTS_PER_BATCH} events`, {
          fields: [{ path: "events", message: `1 to ${MAX_EVENTS_PER_BATCH} events` }],
        });
      }
      // The request paid for one event when it authenticated; a batch pays for the rest, and
      // one larger than the key's whole limit could never pass.
      const limit = rateLimitOf(c, principal);
      if (events.length > limit) {
        throw new AppError(
          "rate_limited",
          `A batch of ${events.length} events exceeds this key's limit of ${limit} per minute: send smaller batches`,
          {
            limit,
            events: events.length,
          },
        );
      }
      await enforceRateLimit(c, principal, events.length - 1);
      const results = await ingestPartnerEvents({ ctx: c.var.ctx, input: { programId, events } });
      return c.json({ results, summary: summarize(results) }, 200) as never;
    }
    const [result] = await ingestPartnerEvents({ ctx: c.var.ctx, input: { programId, events: [body] } });
    if (result.error) throw new AppError(result.error.code as never, result.error.message, result.error.details);
    c.header("idempotent-replayed", String(result.replayed));
    return c.json(result, result.status as 201) as never;
  },
);
