import { z } from "zod";
import { settingsOf } from "../../env";
import { notFound } from "../../lib/errors";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { PendingSyncSchema } from "../../services/ledger/queued-writes";
import { memberLookup } from "../../services/ledger/write";
import { MemberSchema, type MemberView } from "../../services/members/view";
import { defineRoute } from "../route";
import { mergedRedirect } from "./merged-redirect";

/** `no-cache`, `no-store` or `max-age=0` ask for the database's answer now. */
const wantsFresh = (cacheControl: string | undefined) => !!cacheControl && /\b(no-cache|no-store|max-age=0)\b/i.test(cacheControl);

export const getMemberRoute = defineRoute(
  {
    operationId: "members.get",
    principals: { scopes: ["storefront", "admin", "partner"] },
    method: "get",
    path: "/v1/members/{memberId}",
    tags: ["Members"],
    summary: "Look up a member: profile, tier, balance and scores",
    description:
      "Served by the member's Durable Object from memory: the member's own points changes (accruals, redemptions, refunds, adjustments) and admin edits show at once; changes made by the scheduled jobs (expiry, tier requalification, lifecycle, scores, segments) within MEMBER_VIEW_MAX_AGE_SECONDS (default 10). `Age` says how old the answer is, in seconds; send `Cache-Control: no-cache` to read the database now (admin keys always do). `pendingSync` counts the writes accepted while the database was out of reach and not applied yet; while it is out of reach the last view read is answered (its `Age` says how old), with the balance the last write confirmed. A member merged into another answers `308` with `Location` of that member (an HTTP client following redirects gets it) and the tombstone, whose `mergedInto` names it.",
    request: {
      params: MemberIdParam,
      headers: z.object({ "cache-control": z.string().max(200).optional().openapi({ example: "no-cache" }) }),
    },
    responses: {
      200: jsonResponse(MemberSchema.extend({ pendingSync: PendingSyncSchema }).openapi("MemberLookup"), "The member"),
      308: mergedRedirect.response,
      ...errorResponses(404, 503),
    },
  },
  async (c, { programId, scope }) => {
    const { memberId } = c.req.valid("param");
    // Admins (the dashboard, support) always see the database's answer; the cache is for the shop's hot path.
    const fresh = scope === "admin" || wantsFresh(c.req.valid("header")["cache-control"]);
    const maxAge = fresh ? 0 : settingsOf(c.env).MEMBER_VIEW_MAX_AGE_SECONDS;
    const { view, ageSeconds, pendingSync } = await memberLookup(c.env, programId, memberId, maxAge);
    if (!view) throw notFound("Member");
    const member = view as unknown as MemberView;
    if (member.status === "merged" && member.mergedInto) return mergedRedirect.send(c, member);
    c.header("age", String(ageSeconds));
    c.header("cache-control", "private, no-store");
    return c.json({ ...view, pendingSync }, 200);
  },
);
