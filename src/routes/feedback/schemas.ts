import { z } from "@hono/zod-openapi";
import { FeedbackTags } from "../../domain/members/free-form";

export const FeedbackBody = z
  .object({
    kind: z.enum(["nps", "survey", "review"]),
    score: z.number().int().min(0).max(10).optional().openapi({ description: "nps: 0–10 (required); survey: 0–10; review: 1–5" }),
    text: z.string().trim().min(1).max(5000).optional(),
    tags: FeedbackTags.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.kind === "nps" && b.score === undefined)
      ctx.addIssue({ code: "custom", path: ["score"], message: "an NPS answer needs a score 0–10" });
    if (b.kind === "review" && b.score !== undefined && (b.score < 1 || b.score > 5))
      ctx.addIssue({ code: "custom", path: ["score"], message: "a review score is 1–5" });
    if (b.score === undefined && b.text === undefined && (b.tags?.length ?? 0) === 0)
      ctx.addIssue({ code: "custom", path: [], message: "send a score, text or tags" });
  })
  .openapi("Feedback", { example: { kind: "nps", score: 9, text: "Love the app", tags: ["app", "delivery"] } });

export const FeedbackSchema = z
  .object({
    id: z.string(),
    memberId: z.string(),
    kind: z.enum(["nps", "survey", "review"]),
    score: z.number().int().nullable(),
    text: z.string().nullable(),
    tags: z.array(z.string()),
    createdAt: z.string(),
  })
  .openapi("FeedbackEntry");
