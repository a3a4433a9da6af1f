import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { exportMember } from "../../services/exports/member-export";
import { defineRoute } from "../route";

const list = z.array(z.record(z.string(), z.unknown()));
const MemberExportSchema = z
  .object({
    exportedAt: z.string(),
    programId: z.string(),
    member: z.record(z.string(), z.unknown()),
    consent: z.unknown(),
    scores: z.record(z.string(), z.unknown()),
    tierHistory: list,
    ledger: list,
    lots: list,
    orders: list,
    feedback: list,
    messages: list,
    campaignOccurrences: list,
    experiments: list,
    referrals: list,
    coupons: list,
    segments: list,
    auditTrail: list,
  })
  .openapi("MemberExport");

export const exportMemberRoute = defineRoute(
  {
    operationId: "members.export",
    // All of a member's personal data: staff need the admin role, not just viewer.
    principals: { scopes: ["admin"], staff: "admin" },
    method: "get",
    path: "/v1/members/{memberId}/export",
    tags: ["Members"],
    summary: "Everything held about one member (data subject access)",
    description:
      "One JSON document: profile and consent, scores (stage, RFM, churn, CLV, NPS), tier history, ledger and lots, orders, feedback, messages, campaign occurrences, experiment groups, referrals (either side), coupons, segments, and the audit trail of admin changes to the member. The access is audited (`member.exported`). An erased member's document holds what is kept after erasure (no personal data).",
    request: { params: MemberIdParam },
    responses: { 200: jsonResponse(MemberExportSchema, "The member's data"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { memberId } = c.req.valid("param");
    c.header("cache-control", "no-store");
    return c.json((await exportMember({ ctx: c.var.ctx, input: { programId, memberId } })) as never, 200);
  },
);
