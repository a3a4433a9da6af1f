import { z } from "@hono/zod-openapi";
import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { mergeMembers } from "../../services/members/merge";
import { defineRoute } from "../route";

const MergeBody = z
  .object({
    from: z.string().min(1).max(64).openapi({ description: "The duplicate member to merge into this one", example: "mem_01jd8a..." }),
  })
  .openapi("MemberMergeRequest");

const MergeResultSchema = z
  .object({
    id: z.string().openapi({ example: "mrg_01jd9b..." }),
    memberId: z.string().openapi({ description: "The member that remains" }),
    mergedFrom: z.string().openapi({ description: "The member merged away (now a tombstone redirecting here)" }),
    status: z.literal("completed"),
    pointsMoved: z.number().int(),
    debtMoved: z.number().int(),
    lotsMoved: z.number().int(),
    ordersMoved: z.number().int(),
    tierId: z.string().nullable().openapi({ description: "The tier kept: the higher of the two" }),
    completedAt: z.string(),
  })
  .openapi("MemberMerge");

export const mergeMemberRoute = defineRoute(
  {
    operationId: "members.merge",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/members/{memberId}/merge",
    tags: ["Members"],
    summary: "Merge a duplicate member into this one",
    description:
      "Moves the `from` member's points (its lots, with their original dates and expiry), points debt, orders, lifetime figures, referrals, partner links, tags and empty profile fields into this member; consent keeps the stricter of the two per channel, and the higher tier stays. The `from` member becomes a tombstone: looking it up (by id or external id) answers `308` with `Location` of this member and `mergedInto` in the body; writes to it answer `409 member_merged`. Both members are locked while it runs (other writes answer `409 merge_in_progress`). Idempotent: a retry with the same Idempotency-Key, or any later request to merge the same member into the same target, answers with the original result, and finishes a merge that was interrupted half way. Refused: itself (400), a member of another program (404), a tombstone or an erased member (409), a `from` member with open checkout holds (409). Audited (`member.merged`); emits `member.merged`.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(MergeBody, { from: "mem_01jd8a2b3c4d5e6f7g8h9j0k1m" }) },
    responses: { 200: jsonResponse(MergeResultSchema, "The merge, completed"), ...errorResponses(400, 404, 409) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    const { from } = c.req.valid("json");
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const { result, replayed } = await mergeMembers({
      ctx: c.var.ctx,
      input: { programId, targetId: memberId, sourceId: from, idempotencyKey },
    });
    c.header("idempotent-replayed", String(replayed));
    return c.json(result, 200);
  },
);
