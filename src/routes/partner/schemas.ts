import { z } from "@hono/zod-openapi";
import { ActivityAttributes } from "../../domain/members/free-form";
import { AccrualBody, ReportedKind } from "../ledger/schemas";
import { RegisterMemberBody } from "../members/schemas";

const EventId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .openapi({ description: "The partner's own id for this event: resending it returns the original result", example: "pos-7781-sale-1001" });
const MemberId = z.string().trim().min(1).max(64).openapi({ description: "Loyalty Edge member id" });
const ExternalId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .openapi({ description: "The partner's customer id (auto-registers the member when unknown)" });
const oneMemberRef = (e: { memberId?: string; externalId?: string }) => (e.memberId === undefined) !== (e.externalId === undefined);
const memberRefMessage = { message: "give exactly one of memberId or externalId", path: ["memberId"] };

const SaleEvent = z
  .object({
    eventId: EventId,
    type: z.literal("sale"),
    memberId: MemberId.optional(),
    externalId: ExternalId.optional(),
    ...AccrualBody.shape,
  })
  .strict()
  .refine(oneMemberRef, memberRefMessage)
  .openapi("PartnerSaleEvent", {
    example: {
      eventId: "pos-7781-sale-1001",
      type: "sale",
      externalId: "cust-1001",
      orderId: "pos-7781-1001",
      amount: 12999,
      currency: "USD",
      storeId: "store-12",
    },
  });

const RefundEvent = z
  .object({
    eventId: EventId,
    type: z.literal("refund"),
    orderId: z.string().trim().min(1).max(128),
    amount: z.number().int().positive().max(1_000_000_000_000),
    reason: z.string().trim().min(1).max(500).optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .openapi("PartnerRefundEvent", { example: { eventId: "pos-7781-refund-1001", type: "refund", orderId: "pos-7781-1001", amount: 4999 } });

const ActivityEvent = z
  .object({
    eventId: EventId,
    type: z.literal("activity"),
    memberId: MemberId.optional(),
    externalId: ExternalId.optional(),
    kind: ReportedKind,
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    attributes: ActivityAttributes.optional(),
  })
  .strict()
  .refine(oneMemberRef, memberRefMessage)
  .openapi("PartnerActivityEvent", {
    example: {
      eventId: "pos-7781-visit-88",
      type: "activity",
      externalId: "cust-1001",
      kind: "store_visit",
      attributes: { storeId: "store-12" },
    },
  });

const { referralCode: _referral, ...memberFields } = RegisterMemberBody.shape;
const MemberUpsertEvent = z
  .object({ eventId: EventId, type: z.literal("member.upsert"), occurredAt: z.iso.datetime({ offset: true }).optional(), ...memberFields })
  .strict()
  .openapi("PartnerMemberUpsertEvent", {
    example: {
      eventId: "crm-5521",
      type: "member.upsert",
      externalId: "cust-1001",
      email: "ana@example.com",
      name: "Ana",
      consent: { email: true },
    },
  });

/** A deletion request the partner (POS, CRM) forwards: the member's personal data is erased, as by `POST /v1/members/{id}/erase`. */
const MemberEraseEvent = z
  .object({
    eventId: EventId,
    type: z.literal("member.erase"),
    memberId: MemberId.optional(),
    externalId: ExternalId.optional().openapi({ description: "The partner's customer id (404 when no member has it)" }),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine(oneMemberRef, memberRefMessage)
  .openapi("PartnerMemberEraseEvent", { example: { eventId: "crm-5522", type: "member.erase", externalId: "cust-1001" } });

export const PartnerEvent = z
  .discriminatedUnion("type", [SaleEvent, RefundEvent, ActivityEvent, MemberUpsertEvent, MemberEraseEvent])
  .openapi("PartnerEvent");
export type PartnerEvent = z.infer<typeof PartnerEvent>;

export const MAX_EVENTS_PER_BATCH = 500;
export const PartnerBatch = z
  .object({ events: z.array(PartnerEvent).min(1).max(MAX_EVENTS_PER_BATCH) })
  .openapi("PartnerEventBatch", { description: "Up to 500 events; each is validated and applied on its own." });

export const EventResultSchema = z
  .object({
    index: z.number().int().openapi({ description: "Position in the batch (0 for a single event)" }),
    eventId: z.string().nullable(),
    type: z.string().nullable(),
    status: z.number().int().openapi({
      description:
        "HTTP-style status of this event: 201/200 applied, 202 recorded but unsupported or (with `queued`) a sale accepted while the database is out of reach, 4xx/503 rejected",
    }),
    replayed: z.boolean().openapi({ description: "true when this eventId was already processed and the original result is returned" }),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).optional(),
    queued: z.literal(true).optional().openapi({
      description:
        "A sale accepted while the database is out of reach: `result` is the stored write (GET /v1/members/{memberId}/queued-writes/{writeId}); a resend of the event answers its final result once applied",
    }),
  })
  .openapi("PartnerEventResult");

export const BatchResultSchema = z
  .object({
    results: z.array(EventResultSchema),
    summary: z.object({
      received: z.number().int(),
      applied: z.number().int(),
      replayed: z.number().int(),
      unsupported: z.number().int(),
      queued: z.number().int(),
      failed: z.number().int(),
    }),
  })
  .openapi("PartnerEventBatchResult");
