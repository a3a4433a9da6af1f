import { AppError } from "../../lib/errors";
import { allocate, pendingTaken } from "../lots";
import {
  balanceAfter,
  consumeLots,
  entry,
  loadOpenLots,
  loadProgramAndMember,
  memberDelta,
  outbox,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";

export type DebitInput = { points: number; reason: string; sourceType?: string; sourceId?: string | null };

/**
 * Spend available points, first-to-expire first. Fails with insufficient_points (and
 * writes nothing) when the available balance does not cover it.
 */
export async function planRedemption(scope: WriteScope, input: DebitInput, extra: Statement[] = []) {
  const { member } = await loadProgramAndMember(scope);
  requireActive(member);
  const lots = (await loadOpenLots(scope)).filter((l) => l.released === 1);
  const available = member.pointsBalance - member.pointsPending;
  const { takes, shortfall } = allocate(lots, input.points);
  if (shortfall > 0 || available < input.points) {
    throw new AppError(
      "insufficient_points",
      `Not enough available points: ${Math.max(0, Math.min(available, input.points - shortfall))} available, ${input.points} requested`,
      {
        available: Math.max(0, available),
        requested: input.points,
      },
    );
  }
  const e = entry(scope, {
    type: "redeem",
    points: -input.points,
    reason: input.reason,
    sourceType: input.sourceType ?? "redemption",
    sourceId: input.sourceId,
    metadata: { lots: takes },
  });
  const delta = { balance: -input.points, pending: -pendingTaken(takes), redeemed: input.points };
  return {
    status: 201 as const,
    body: { entries: [e.view], balance: balanceAfter(member, delta) },
    statements: [
      e.statement,
      ...consumeLots(scope, e.row.id, takes),
      memberDelta(scope, delta),
      outbox(scope, "points.redeemed", { points: input.points, reason: input.reason, entryId: e.row.id }),
      ...extra,
    ],
  };
}
