import { and, desc, eq, inArray, notInArray } from "drizzle-orm";
import { members, partnerMembers } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { linkPartnerMember, readsTouchedOnly } from "../partner/scoping";
import { verifyMemberCode } from "./member-codes";
import { getMember } from "./members";
import { phoneE164For } from "./phone";
import type { MemberView } from "./view";

/** At most this many members share a phone in an answer (duplicates to merge, or a family's phone). */
const MAX_PHONE_MATCHES = 10;

export type IdentifyInput = { programId: string } & ({ code: string; phone?: never } | { phone: string; code?: never });

/**
 * Who is at the till. By a rotating member code (src/services/members/member-codes.ts): the one
 * member it carries — the member showed it, so a partner key may identify them and is linked to
 * them (it touched them). By phone (E.164 after normalising): the program's members with that
 * number, most recently changed first, and for a partner key reading only the members it touched,
 * only those. Tombstones are never answered: a code of a merged member names the member it joined.
 */
export async function identifyMember({ ctx, input }: { ctx: ServiceContext; input: IdentifyInput }): Promise<{ data: MemberView[] }> {
  const { programId } = input;
  if (input.code !== undefined) {
    const number = await verifyMemberCode(ctx, programId, input.code);
    const [row] = await ctx.db
      .select({ id: members.id, status: members.status, mergedInto: members.mergedInto })
      .from(members)
      .where(and(eq(members.programId, programId), eq(members.memberNumber, number)))
      .limit(1);
    if (!row || row.status === "erased") throw notFound("Member");
    const memberId = row.status === "merged" && row.mergedInto ? row.mergedInto : row.id;
    await linkPartnerMember(ctx, programId, memberId);
    return { data: [await getMember({ ctx, input: { programId, memberId } })] };
  }
  const e164 = await phoneE164For(ctx, programId, input.phone);
  if (!e164) throw new AppError("invalid_request", "Not a phone number", { fields: [{ path: "phone", message: "not a phone number" }] });
  const principal = ctx.principal;
  const rows = await ctx.db
    .select({ id: members.id })
    .from(members)
    .where(
      and(
        eq(members.programId, programId),
        eq(members.phoneE164, e164),
        notInArray(members.status, ["erased", "merged"]),
        readsTouchedOnly(principal)
          ? inArray(
              members.id,
              ctx.db
                .select({ id: partnerMembers.memberId })
                .from(partnerMembers)
                .where(and(eq(partnerMembers.programId, programId), eq(partnerMembers.partner, principal?.partner?.id as string))),
            )
          : undefined,
      ),
    )
    .orderBy(desc(members.updatedAt))
    .limit(MAX_PHONE_MATCHES);
  return { data: await Promise.all(rows.map((r) => getMember({ ctx, input: { programId, memberId: r.id } }))) };
}
