import { z } from "@hono/zod-openapi";
import { FREE_FORM_LIMITS, MemberAttributes, MemberTags, Tag } from "../../domain/members/free-form";
import { ConsentSchema } from "../../services/members/view";

export const RegisterMemberBody = z
  .object({
    externalId: z.string().trim().min(1).max(128).openapi({ example: "cust-1001" }),
    email: z.email().max(254).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 ()-]{5,20}$/, "phone must be digits, optionally with +, spaces, dashes")
      .optional(),
    name: z.string().trim().min(1).max(200).optional(),
    birthday: z.iso.date("birthday must be YYYY-MM-DD").optional(),
    attributes: MemberAttributes.optional(),
    tags: MemberTags.optional(),
    consent: ConsentSchema.partial().optional(),
    referralCode: z.string().trim().min(4).max(32).optional(),
    acquisitionChannel: z.string().trim().min(1).max(64).optional(),
  })
  .strict()
  .openapi("RegisterMember", {
    example: { externalId: "cust-1001", email: "ana@example.com", name: "Ana", birthday: "1990-04-12", consent: { email: true } },
  });

export const UpdateMemberBody = RegisterMemberBody.omit({ externalId: true, referralCode: true, tags: true })
  .extend({ status: z.enum(["active", "blocked"]).optional() })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, "send at least one field to change")
  .openapi("UpdateMember", { example: { name: "Ana Silva", consent: { sms: true } } });

export const TagsBody = z
  .object({
    add: z.array(Tag).max(FREE_FORM_LIMITS.memberTags, `add at most ${FREE_FORM_LIMITS.memberTags} tags`).default([]),
    remove: z.array(Tag).max(FREE_FORM_LIMITS.memberTags, `remove at most ${FREE_FORM_LIMITS.memberTags} tags`).default([]),
  })
  .strict()
  .refine((b) => b.add.length + b.remove.length > 0, "add or remove at least one tag")
  .openapi("ChangeTags", { example: { add: ["vip"], remove: ["newsletter"] } });
