import { and, eq } from "drizzle-orm";
import { redemptions } from "../../../schema";
import { type RedemptionView, toRedemptionView } from "../../ledger/operations/checkout";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";

/** A redemption of the caller's program; 404 for any other program's (its id reveals nothing). */
export async function getRedemption({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; redemptionId: string };
}): Promise<RedemptionView> {
  const [row] = await ctx.db
    .select()
    .from(redemptions)
    .where(and(eq(redemptions.programId, input.programId), eq(redemptions.id, input.redemptionId)))
    .limit(1);
  if (!row) throw notFound("Redemption");
  return toRedemptionView(row);
}
