import { z } from "zod";

/**
 * Limits on the free-form data clients attach to members and their activities, in one place.
 * Everything here is copied into the member row, ledger metadata and outbox payloads, so an
 * unbounded map or tag list would grow rows (and webhook bodies) without limit.
 */
export const FREE_FORM_LIMITS = {
  /** Keys on one member's profile attributes, after a PATCH merges into them. */
  memberAttributes: 50,
  /** Keys on one activity (API or partner event). */
  activityAttributes: 20,
  attributeKeyLength: 64,
  attributeValueLength: 256,
  /** Tags on one member, after adds merge into them; also the bound on their feedback tags. */
  memberTags: 50,
  tagLength: 64,
  /** Tags on one feedback answer. */
  feedbackTags: 20,
} as const;

const L = FREE_FORM_LIMITS;

const AttributeText = z.string().max(L.attributeValueLength, `attribute values are at most ${L.attributeValueLength} characters`);
const AttributeNumber = z.number().refine(Number.isFinite, "attribute numbers are finite");

// Keys are checked here rather than by a key schema, whose failure only says "Invalid key in record".
const attributes = <V extends z.ZodType>(value: V, max: number) =>
  z.record(z.string(), value).superRefine((a, ctx) => {
    const keys = Object.keys(a);
    if (keys.length > max) ctx.addIssue({ code: "custom", message: `at most ${max} attributes` });
    for (const key of keys)
      if (key.length === 0 || key.length > L.attributeKeyLength)
        ctx.addIssue({ code: "custom", path: [key], message: `attribute keys are 1 to ${L.attributeKeyLength} characters` });
  });

/** Profile attributes as sent (a null removes the key on update). */
export const MemberAttributes = attributes(z.union([AttributeText, AttributeNumber, z.boolean(), z.null()]), L.memberAttributes);
/** What an activity carries (stored with the points it earns, until the member is erased). */
export const ActivityAttributes = attributes(z.union([AttributeText, AttributeNumber, z.boolean()]), L.activityAttributes);

export const Tag = z.string().trim().min(1).max(L.tagLength, `a tag is at most ${L.tagLength} characters`);
export const MemberTags = z.array(Tag).max(L.memberTags, `at most ${L.memberTags} tags`);
export const FeedbackTags = z.array(Tag).max(L.feedbackTags, `at most ${L.feedbackTags} tags`);

/** The message of the 400 when a merge would take a member past a limit. */
export const overLimitMessage = (what: "tags" | "attributes", max: number) => `A member has at most ${max} ${what}`;
