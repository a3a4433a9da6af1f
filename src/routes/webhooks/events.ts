import { z } from "@hono/zod-openapi";
import { API_VERSIONS, type ApiVersion, LATEST_API_VERSION } from "../../lib/api-version";
import { STANDARD_HEADERS } from "../../lib/signing";

/**
 * The published payload of every outbound event type: the OpenAPI document's `webhooks`
 * section (see src/routes/system/openapi.ts), and what test/api/webhook-payloads.test.ts
 * validates real deliveries against. Data objects are open (more fields may be added; a
 * member's erasure removes personal ones such as externalId and reason), so only what is always
 * there is required.
 */

const Id = (example: string) => z.string().openapi({ example });
const Points = z.number().int();
const Instant = z.string().openapi({ description: "UTC ISO-8601", example: "2026-11-25T10:00:00.000Z" });
const MemberId = Id("mem_01jd7y4m2c8k3v0f5q9r1t6w2x");

const ENVELOPE_EXAMPLE = {
  id: "evt_01jd7y4m3a5b6c7d8e9f0g1h2j",
  apiVersion: LATEST_API_VERSION,
  programId: "prg_01jd7y4kzq0a1b2c3d4e5f6g7h",
  createdAt: "2026-11-25T10:00:00.000Z",
};

type EventDefinition = { type: string; summary: string; data: z.ZodObject; example: Record<string, unknown> };

const event = (type: string, summary: string, shape: z.ZodRawShape, example: Record<string, unknown>): EventDefinition => ({
  type,
  summary,
  data: z.looseObject({ memberId: MemberId, ...shape }),
  example,
});

const events: EventDefinition[] = [
  event(
    "member.created",
    "A member registered (API, partner event, import)",
    {
      externalId: z.string().optional(),
      referredBy: z.string().nullable().optional().openapi({ description: "The referrer's member id" }),
    },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", externalId: "cust-1001", referredBy: null },
  ),
  event("member.erased", "A member's personal data was erased", {}, { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x" }),
  event(
    "member.merged",
    "A duplicate member was merged into this one (POST /v1/members/{memberId}/merge): its points, lots, orders and figures are now this member's, and the duplicate is a tombstone redirecting here",
    {
      mergedFrom: Id("mem_01jd8a2b3c4d5e6f7g8h9j0k1m").openapi({ description: "The member merged away" }),
      mergeId: Id("mrg_01jd9b2c3d4e5f6g7h8j9k0m1n"),
      pointsMoved: Points,
      debtMoved: Points,
      lotsMoved: z.number().int(),
      ordersMoved: z.number().int(),
      tierId: z.string().nullable().openapi({ description: "The tier kept: the higher of the two" }),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      mergedFrom: "mem_01jd8a2b3c4d5e6f7g8h9j0k1m",
      mergeId: "mrg_01jd9b2c3d4e5f6g7h8j9k0m1n",
      pointsMoved: 450,
      debtMoved: 0,
      lotsMoved: 2,
      ordersMoved: 2,
      tierId: "tier_01jd7y4kzq0a1b2c3d4e5f6g7h",
    },
  ),
  event(
    "points.earned",
    "Points were credited: a purchase, an activity, a positive adjustment, a campaign or a referral",
    {
      points: Points,
      entryId: Id("led_01jd7y4m3a5b6c7d8e9f0g1h2j"),
      orderId: z.string().optional(),
      availableAt: Instant.nullable().optional(),
      expiresAt: Instant.nullable().optional().openapi({
        description:
          "When the points expire; null when they never do, or under the inactivity policy (they expire with the member's date, N days after the last purchase)",
      }),
      reason: z.string().nullable().optional(),
      sourceType: z.string().optional(),
      activity: z.string().optional(),
      campaignId: z.string().optional(),
      referralId: z.string().optional(),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      points: 129,
      orderId: "pos-7781-1001",
      entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2j",
      availableAt: "2026-11-25T10:00:00.000Z",
      expiresAt: "2027-11-25T10:00:00.000Z",
    },
  ),
  event(
    "points.redeemed",
    "Points were spent at checkout",
    { points: Points, entryId: z.string(), reason: z.string().nullable().optional() },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", points: 500, reason: "Checkout", entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2k" },
  ),
  event(
    "points.adjusted",
    "An admin took points off (a negative adjustment)",
    { points: Points, entryId: z.string(), reason: z.string().nullable().optional() },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", points: -50, reason: "Duplicate order", entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2m" },
  ),
  event(
    "points.reversed",
    "Points an order or a referral earned were taken back (a refund, a reversed referral)",
    {
      points: Points,
      entryId: z.string(),
      orderId: z.string().optional(),
      refundAmount: z.number().int().optional(),
      referralId: z.string().optional(),
      reason: z.string().nullable().optional(),
      unrecovered: Points.optional().openapi({ description: "Points that could not be taken back (already spent)" }),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      points: 50,
      orderId: "pos-7781-1001",
      refundAmount: 4999,
      entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2n",
    },
  ),
  event(
    "points.released",
    "Pending points became available (the hold period ended)",
    { points: Points },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      points: 129,
    },
  ),
  event(
    "points.returned",
    "Points went back to the lots they came from (a released, voided, expired or reversed redemption, a cancelled coupon)",
    {
      points: Points,
      lapsed: Points.openapi({ description: "Points not returned because their lot had expired meanwhile" }),
      entryId: z.string(),
      reason: z.string().nullable().optional(),
      sourceType: z.string().nullable().optional(),
      sourceId: z.string().nullable().optional(),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      points: 250,
      lapsed: 0,
      reason: "Redemption voided",
      sourceType: "redemption",
      sourceId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2v",
    },
  ),
  event(
    "points.expired",
    "Points expired (one event per member and sweep batch, whichever the policy)",
    { points: Points },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", points: 40 },
  ),
  event(
    "order.accrued",
    "A purchase was recorded (whether or not it earned points)",
    {
      orderId: z.string(),
      amount: z.number().int().openapi({ description: "Minor units" }),
      occurredAt: Instant,
      points: Points,
      firstOrder: z.boolean().optional().openapi({ description: "The member's first order" }),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      orderId: "pos-7781-1001",
      amount: 12999,
      occurredAt: "2026-11-25T09:59:00.000Z",
      points: 129,
      firstOrder: true,
    },
  ),
  event(
    "tier.changed",
    "A member moved up or down the tier ladder",
    {
      from: z.string().nullable(),
      to: z.string(),
      toName: z.string(),
      change: z.enum(["upgrade", "downgrade"]),
      securedUntil: Instant.nullable(),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      from: null,
      to: "tier_01jd7y4m3a5b6c7d8e9f0g1h2p",
      toName: "Silver",
      change: "upgrade",
      securedUntil: "2027-11-25T10:00:00.000Z",
    },
  ),
  event(
    "reward.issued",
    "A reward was issued as a coupon (redeemed for points, or awarded by a campaign)",
    {
      rewardId: z.string(),
      rewardName: z.string(),
      kind: z.string(),
      couponId: z.string(),
      code: z.string(),
      pointsCost: Points,
      costMinor: z.number().int().nullable().optional(),
      expiresAt: Instant.nullable(),
      campaignId: z.string().optional(),
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      rewardId: "rwd_01jd7y4m3a5b6c7d8e9f0g1h2q",
      rewardName: "$5 off",
      kind: "discount_fixed",
      couponId: "cpn_01jd7y4m3a5b6c7d8e9f0g1h2r",
      code: "LE-7KQ2-M9XD",
      pointsCost: 500,
      costMinor: 500,
      expiresAt: "2026-12-25T10:00:00.000Z",
    },
  ),
  event(
    "coupon.consumed",
    "A coupon was used at checkout",
    { couponId: z.string(), code: z.string(), rewardId: z.string(), orderId: z.string().nullable(), pointsCost: Points },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      couponId: "cpn_01jd7y4m3a5b6c7d8e9f0g1h2r",
      code: "LE-7KQ2-M9XD",
      rewardId: "rwd_01jd7y4m3a5b6c7d8e9f0g1h2q",
      orderId: "pos-7781-1002",
      pointsCost: 500,
    },
  ),
  event(
    "coupon.cancelled",
    "An unused coupon was cancelled and its points returned",
    { couponId: z.string(), code: z.string(), rewardId: z.string(), pointsReturned: Points, entryId: z.string() },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      couponId: "cpn_01jd7y4m3a5b6c7d8e9f0g1h2r",
      code: "LE-7KQ2-M9XD",
      rewardId: "rwd_01jd7y4m3a5b6c7d8e9f0g1h2q",
      pointsReturned: 500,
      entryId: "led_01jd7y4m3a5b6c7d8e9f0g1h2s",
    },
  ),
  event(
    "stage.changed",
    "A member's lifecycle stage changed (nightly)",
    { from: z.string(), to: z.string() },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", from: "active", to: "dormant" },
  ),
  event(
    "activity.recorded",
    "An activity (review, store visit, …) was recorded",
    { kind: z.string(), occurredAt: Instant, points: Points },
    { memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x", kind: "review", occurredAt: "2026-11-25T10:00:00.000Z", points: 50 },
  ),
  event(
    "redemption.reserved",
    "Points were reserved at checkout (capture: false): held until captured, voided or expired",
    { redemptionId: z.string(), points: Points, expiresAt: Instant.nullable() },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      redemptionId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      points: 250,
      expiresAt: "2026-11-25T10:30:00.000Z",
    },
  ),
  event(
    "redemption.captured",
    "A reserve was captured, all or part of it (the rest went back)",
    {
      redemptionId: z.string(),
      points: Points.openapi({ description: "Points spent for good by this step (0 for a void or an expiry)" }),
      pointsReturned: Points,
      pointsLapsed: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      redemptionId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      points: 200,
      pointsReturned: 50,
      pointsLapsed: 0,
    },
  ),
  event(
    "redemption.voided",
    "A reserve was released: its points went back",
    {
      redemptionId: z.string(),
      points: Points.openapi({ description: "Points spent for good by this step (0 for a void or an expiry)" }),
      pointsReturned: Points,
      pointsLapsed: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      redemptionId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      points: 0,
      pointsReturned: 250,
      pointsLapsed: 0,
    },
  ),
  event(
    "redemption.expired",
    "A reserve lapsed uncaptured: its points went back",
    {
      redemptionId: z.string(),
      points: Points.openapi({ description: "Points spent for good by this step (0 for a void or an expiry)" }),
      pointsReturned: Points,
      pointsLapsed: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      redemptionId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      points: 0,
      pointsReturned: 250,
      pointsLapsed: 0,
    },
  ),
  event(
    "redemption.reversed",
    "A captured redemption was undone (all or part): points back to their original lots",
    {
      redemptionId: z.string(),
      points: Points.openapi({ description: "Points spent for good by this step (0 for a void or an expiry)" }),
      pointsReturned: Points,
      pointsLapsed: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      redemptionId: "rdm_01jd7y4m3a5b6c7d8e9f0g1h2u",
      points: 200,
      pointsReturned: 200,
      pointsLapsed: 0,
    },
  ),
  event(
    "referral.qualified",
    "A referee's first qualifying purchase landed",
    {
      referralId: z.string(),
      referrerId: z.string(),
      refereeId: z.string(),
      orderId: z.string(),
      refereePoints: Points,
      referrerPoints: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2y",
      referralId: "ref_01jd7y4m3a5b6c7d8e9f0g1h2t",
      referrerId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      refereeId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2y",
      orderId: "pos-7781-1003",
      refereePoints: 200,
      referrerPoints: 500,
    },
  ),
  event(
    "referral.rewarded",
    "The referrer was credited for a qualified referral",
    { referralId: z.string(), refereeId: z.string(), referrerPoints: Points },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      referralId: "ref_01jd7y4m3a5b6c7d8e9f0g1h2t",
      refereeId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2y",
      referrerPoints: 500,
    },
  ),
  event(
    "referral.reversed",
    "A qualifying order was refunded: the referral's points are taken back",
    {
      referralId: z.string(),
      referrerId: z.string(),
      refereeId: z.string(),
      orderId: z.string(),
      refereePointsReversed: Points,
      unrecovered: Points,
    },
    {
      memberId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2y",
      referralId: "ref_01jd7y4m3a5b6c7d8e9f0g1h2t",
      referrerId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2x",
      refereeId: "mem_01jd7y4m2c8k3v0f5q9r1t6w2y",
      orderId: "pos-7781-1003",
      refereePointsReversed: 200,
      unrecovered: 0,
    },
  ),
];

/** The component name of an event type's payload: "points.earned" → "PointsEarnedEvent". */
const eventSchemaName = (type: string) =>
  `${type
    .split(/[._]/)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join("")}Event`;

/** The payload schema of each event type, with an example: the body of every delivery of that type. */
const webhookEventSchemas = events.map((e) => ({
  type: e.type,
  summary: e.summary,
  schema: z
    .object({
      id: Id("evt_01jd7y4m3a5b6c7d8e9f0g1h2j").openapi({ description: "The event id: the webhook-id header, the same on every retry" }),
      type: z.literal(e.type),
      apiVersion: z.enum(API_VERSIONS as [ApiVersion, ...ApiVersion[]]).openapi({
        description: "The API version the payload is rendered in: the subscription's (Loyalty-Version when it was created)",
      }),
      programId: Id("prg_01jd7y4kzq0a1b2c3d4e5f6g7h"),
      createdAt: Instant,
      data: e.data,
    })
    .openapi(eventSchemaName(e.type), { example: { ...ENVELOPE_EXAMPLE, type: e.type, data: e.example } }),
}));

const SignatureHeaders = z.object({
  [STANDARD_HEADERS.id]: z.string().openapi({ description: "The event id, the same on every retry: de-duplicate on it" }),
  [STANDARD_HEADERS.timestamp]: z.string().openapi({ description: "Unix seconds; reject when more than 5 minutes away" }),
  [STANDARD_HEADERS.signature]: z.string().openapi({
    description: "v1,<base64 HMAC-SHA256> per signing secret, space-separated during a rotation (Standard Webhooks)",
  }),
});

/** The `webhooks` entries of the OpenAPI document, one per event type. */
export const webhookOperations = webhookEventSchemas.map(({ type, summary, schema }) => ({
  method: "post" as const,
  path: type,
  operationId: `webhookEvents.${type}`,
  tags: ["Webhooks"],
  summary,
  // Authenticated by the signature headers, which OpenAPI cannot express as a security scheme.
  security: [],
  description: `Sent to every active subscription whose eventTypes match ${type}, signed the Standard Webhooks way. Answer 2xx within 10 s; 410 Gone disables the subscription; anything else is retried.`,
  request: { headers: SignatureHeaders, body: { required: true, content: { "application/json": { schema } } } },
  responses: {
    200: { description: "Received (any 2xx)" },
    410: { description: "The endpoint is retired: the subscription is disabled" },
  },
}));
