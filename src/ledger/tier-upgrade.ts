import { eq } from "drizzle-orm";
import { members, tierHistory } from "../../schema";
import { decideOnWrite } from "../domain/tiers/qualification";
import type { TierFigures } from "../domain/tiers/schema";
import { newId } from "../lib/ids";
import { windowFigures, windowStart } from "../services/tiers/ladder";
import type { EarningAndTierInputs } from "./earning";
import { type MemberRow, outbox, type Statement, type WriteScope } from "./state";

export type TierChange = { from: string | null; to: string; toName: string; change: "upgrade"; securedUntil: string | null };

/**
 * Upgrade at once when this write qualifies the member for a higher tier (never downgrade
 * here): `add` is what the write adds to the member's figures over the ladder's window. A
 * purchase that happened (`occurredAt`) before the window adds its points (credited now) but
 * not its spend, order or day.
 */
export async function tierUpgrade(
  scope: WriteScope,
  member: MemberRow,
  loaded: Pick<EarningAndTierInputs, "ladder" | "figures">,
  add: TierFigures,
  occurredAt = scope.now,
): Promise<{ statements: Statement[]; change: TierChange | null }> {
  const { ladder, figures: preread } = loaded;
  if (ladder.length === 0) return { statements: [], change: null };
  // The figures read beside the ladder cover windowStartSql's window; should it ever differ
  // from the parsed ladder's (it should not), read the right one.
  const from = windowStart(scope.now, ladder);
  const base = preread.since === from ? preread : await windowFigures(scope.db, scope.memberId, from);
  if (Date.parse(occurredAt) < Date.parse(from)) add = { ...add, spend: 0, orders: 0, activeDays: 0 };
  const figures: TierFigures = {
    spend: base.spend + add.spend,
    orders: base.orders + add.orders,
    pointsEarned: base.pointsEarned + add.pointsEarned,
    activeDays: (base.activeDays ?? 0) + (add.activeDays ?? 0),
  };
  const decision = decideOnWrite({
    tiers: ladder,
    current: { tierId: member.tierId, securedUntil: member.tierSecuredUntil },
    figures,
    now: scope.now,
  });
  if (decision.change !== "upgrade") return { statements: [], change: null };
  const to = ladder.find((t) => t.id === decision.tierId)!;
  const change: TierChange = { from: member.tierId, to: to.id, toName: to.name, change: "upgrade", securedUntil: decision.securedUntil };
  return {
    change,
    statements: [
      scope.db
        .update(members)
        .set({ tierId: to.id, tierSince: scope.now, tierSecuredUntil: decision.securedUntil })
        .where(eq(members.id, scope.memberId)) as Statement,
      scope.db.insert(tierHistory).values({
        id: newId("th"),
        programId: scope.programId,
        memberId: scope.memberId,
        fromTierId: member.tierId,
        toTierId: to.id,
        change: "upgrade",
        reason: "qualified on write",
        createdAt: scope.now,
      }) as Statement,
      outbox(scope, "tier.changed", change),
    ],
  };
}
