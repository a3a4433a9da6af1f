import { z } from "@hono/zod-openapi";

const ruleExample = {
  and: [
    { field: "stage", op: "in", value: ["dormant", "at_risk"] },
    { field: "rfm.m", op: "gte", value: 4 },
    { not: { field: "tags", op: "contains", value: "do-not-disturb" } },
  ],
};

// The rule is validated by the domain schema (parseSegmentRule) so its messages reach the caller.
const Rule = z.unknown().openapi({
  description:
    "JSON rule: {and:[…]}, {or:[…]}, {not:…} or a condition {field, op, value}. Fields: tierId, tierRank, tags, stage, rfm.r|f|m|score, valueSegment, churnProbability, clv, balance, lifetimeSpend, orders, daysSinceLastPurchase, daysSinceLastActivity (purchase or reported activity: review, visit, app login…), joinedDaysAgo, birthdayMonth, lastNps, feedbackTags, consent.<channel>, attributes.<key>. Ops: eq, neq, gt, gte, lt, lte, in, nin, contains, exists, between.",
  example: ruleExample,
});

const Name = z.string().trim().min(1).max(200);
const Description = z.string().trim().max(2000).nullable();

export const CreateSegmentBody = z
  .object({ name: Name, description: Description.optional(), rule: Rule })
  .strict()
  .openapi("CreateSegment", { example: { name: "Lapsing high spenders", description: "Win-back audience", rule: ruleExample } });

export const UpdateSegmentBody = z
  .object({ name: Name, description: Description, rule: Rule })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, "send at least one field to change")
  .openapi("UpdateSegment", { example: { rule: { field: "valueSegment", op: "eq", value: "at_risk" } } });

export const SegmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    rule: z.unknown(),
    memberCount: z.number().int(),
    computedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Segment");

export const SegmentIdParam = z.object({
  segmentId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "segmentId", in: "path" }, example: "seg_01jd..." }),
});

export const SegmentMemberSchema = z
  .object({
    memberId: z.string(),
    externalId: z.string(),
    stage: z.string(),
    valueSegment: z.string().nullable(),
    churnProbability: z.number().nullable(),
    clv12m: z.number().int().nullable(),
    addedAt: z.string(),
  })
  .openapi("SegmentMember");
