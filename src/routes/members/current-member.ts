import { z } from "@hono/zod-openapi";
import { isDatabaseUnavailable } from "../../db/availability";
import { settingsOf } from "../../env";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getProgram } from "../../services/access/programs";
import { PendingSyncSchema } from "../../services/ledger/queued-writes";
import { memberLookup } from "../../services/ledger/write";
import { MEMBER_SCOPES } from "../../services/members/tokens";
import { MemberTierSchema } from "../../services/members/view";
import { defineRoute } from "../route";

const CurrentMemberSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    name: z.string().nullable(),
    referralCode: z.string(),
    tier: MemberTierSchema.nullable().openapi({
      description: "The member's tier with its benefits (free shipping, discount, birthday gift, custom) for the storefront",
    }),
    balance: z.object({ available: z.number().int(), pending: z.number().int(), reserved: z.number().int(), total: z.number().int() }),
    lifetime: z.object({ earned: z.number().int(), redeemed: z.number().int() }),
    scopes: z.array(z.enum(MEMBER_SCOPES)),
    program: z.object({ id: z.string(), name: z.string(), currency: z.string(), defaultLocale: z.string() }),
    pendingSync: PendingSyncSchema,
  })
  .openapi("CurrentMember");

/** A program's name, currency and default locale, per isolate: read by every widget load, changed almost never. */
const PROGRAM_CACHE_MS = 60_000;
const programSummaries = new Map<string, { at: number; id: string; name: string; currency: string; defaultLocale: string }>();

async function programSummary(ctx: ServiceContext, programId: string) {
  const cached = programSummaries.get(programId);
  if (cached && Date.now() - cached.at < PROGRAM_CACHE_MS) return cached;
  // While the database is out of reach an older summary is still the program's name and currency.
  const program = await getProgram({ ctx, input: { programId } }).catch((err) =>
    cached && isDatabaseUnavailable(err) ? null : Promise.reject(err),
  );
  if (!program) return cached!;
  const summary = { at: Date.now(), id: program.id, name: program.name, currency: program.currency, defaultLocale: program.defaultLocale };
  programSummaries.delete(programId);
  programSummaries.set(programId, summary);
  while (programSummaries.size > 5_000) programSummaries.delete(programSummaries.keys().next().value as string);
  return summary;
}

export const getCurrentMemberRoute = defineRoute(
  {
    operationId: "me.get",
    principals: { member: "read" },
    method: "get",
    path: "/v1/me",
    tags: ["Members"],
    summary: "The member a token acts for: profile summary, tier and balance",
    description:
      "What the widget shows first, and how a browser holding a shop-signed assertion learns its member id. Only the summary a member may see of themselves (no scores or staff notes). Served from the member's Durable Object memory, like GET /v1/members/{memberId}; the program's name and currency may be up to a minute old. `pendingSync` counts what was accepted while the database was out of reach and is not applied yet.",
    responses: { 200: jsonResponse(CurrentMemberSchema, "The member"), ...errorResponses(404, 503) },
  },
  async (c, { programId, member }) => {
    const memberId = member?.memberId as string;
    const maxAge = settingsOf(c.env).MEMBER_VIEW_MAX_AGE_SECONDS;
    const [{ view, pendingSync }, program] = await Promise.all([
      memberLookup(c.env, programId, memberId, maxAge),
      programSummary(c.var.ctx, programId),
    ]);
    if (!view) throw notFound("Member");
    const v = view;
    c.header("cache-control", "private, no-store");
    return c.json(
      {
        id: v.id,
        externalId: v.externalId,
        name: v.name,
        referralCode: v.referralCode,
        tier: v.tier,
        balance: { available: v.balance.available, pending: v.balance.pending, reserved: v.balance.reserved, total: v.balance.total },
        lifetime: { earned: v.lifetime.earned, redeemed: v.lifetime.redeemed },
        scopes: member?.scopes ?? [],
        program: { id: program.id, name: program.name, currency: program.currency, defaultLocale: program.defaultLocale },
        pendingSync,
      },
      200,
    );
  },
);
