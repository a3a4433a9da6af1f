import { and, eq } from "drizzle-orm";
import { partnerMembers } from "../../../schema";
import type { Principal, ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";

/** Who a write comes from, as recorded on the orders it creates and in partner_members. */
export type WriteSource = { keyId: string | null; partner: string | null };

export const writeSourceOf = (principal: Partial<Pick<Principal, "keyId" | "partner">> | undefined): WriteSource => ({
  keyId: principal?.keyId ?? null,
  partner: principal?.partner?.id ?? null,
});

/** An order's recorded source (null columns: an order older than them, counted as the storefront's). */
export type OrderSource = { sourceScope: string | null; sourceKeyId: string | null; sourcePartner: string | null };

/**
 * A partner key refunds only its partner's orders, a storefront key only orders no partner
 * created (the storefront's, an admin's or the system's); an admin key any order.
 */
export function assertMayRefund(principal: Principal | undefined, orderId: string, order: OrderSource) {
  if (!principal || principal.scope === "admin") return;
  const own =
    principal.scope === "partner"
      ? order.sourcePartner !== null && order.sourcePartner === principal.partner?.id
      : order.sourcePartner === null;
  if (!own)
    throw new AppError(
      "order_of_another_source",
      `Order ${orderId} was created by another source (${order.sourcePartner ? "a partner" : "the storefront"}); only that source or an admin key may refund it`,
    );
}

/** Whether this principal reads only the members its partner touched. */
export const readsTouchedOnly = (principal: Principal | undefined) => principal?.partner?.memberAccess === "touched";

/**
 * 404 (as if the member did not exist) when a partner key limited to the members it touched asks
 * for one it never touched; any other principal passes without a read.
 */
export async function assertMemberVisible(ctx: ServiceContext, principal: Principal | undefined, memberId: string) {
  if (!readsTouchedOnly(principal)) return;
  const [link] = await ctx.db
    .select({ memberId: partnerMembers.memberId })
    .from(partnerMembers)
    .where(
      and(
        eq(partnerMembers.programId, principal!.programId),
        eq(partnerMembers.partner, principal!.partner!.id),
        eq(partnerMembers.memberId, memberId),
      ),
    )
    .limit(1);
  if (!link) throw notFound("Member");
}

/** Record that the calling partner touched this member (outside a ledger write: a member event). */
export async function linkPartnerMember(ctx: ServiceContext, programId: string, memberId: string) {
  const partner = ctx.principal?.partner?.id;
  if (!partner) return;
  await ctx.db.insert(partnerMembers).values({ programId, partner, memberId, createdAt: nowIso() }).onConflictDoNothing();
}
