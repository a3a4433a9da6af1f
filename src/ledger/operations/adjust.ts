import { AppError } from "../../lib/errors";
import { allocate, pendingTaken } from "../lots";
import {
  balanceAfter,
  consumeLots,
  entry,
  loadOpenLots,
  loadProgramAndMember,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  reasonFor,
  type WriteScope,
} from "../state";

export type AdjustInput = {
  points: number;
  reason: string;
  sourceType?: string;
  sourceId?: string | null;
  type?: "adjust" | "earn";
  hold?: boolean;
};

/**
 * Credit or debit points outside a purchase (admin correction, campaign award, activity).
 * Credits become a lot (available at once unless `hold`); debits consume lots and may go
 * negative only where the program allows it.
 */
export async function planAdjustment(scope: WriteScope, input: AdjustInput) {
  const { program, member } = await loadProgramAndMember(scope);
  const type = input.type ?? "adjust";
  const sourceType = input.sourceType ?? "admin";
  const reason = reasonFor(member, input.reason, "Adjustment");
  if (input.points > 0) {
    const e = entry(scope, { type, points: input.points, reason, sourceType, sourceId: input.sourceId });
    const lot = newLot(scope, program, member, {
      entryId: e.row.id,
      points: input.points,
      hold: input.hold ?? false,
      owed: owedBy(member),
    });
    const delta = { ...lot.delta, earned: input.points };
    return {
      status: 201 as const,
      body: { entries: [e.view, ...(lot.repayment ? [lot.repayment] : [])], balance: balanceAfter(member, delta) },
      statements: [
        e.statement,
        ...lot.statements,
        memberDelta(scope, delta),
        outbox(scope, "points.earned", { points: input.points, reason, entryId: e.row.id, sourceType }),
      ],
    };
  }
  const debit = -input.points;
  const lots = (await loadOpenLots(scope)).filter((l) => l.released === 1);
  const { takes, shortfall } = allocate(lots, debit);
  if (shortfall > 0 && !program.allowNegativeBalance) {
    throw new AppError(
      "insufficient_points",
      `Adjustment of ${input.points} would make the balance negative, which this program does not allow`,
      { requested: debit, available: debit - shortfall },
    );
  }
  const e = entry(scope, {
    type: "adjust",
    points: input.points,
    reason,
    sourceType,
    sourceId: input.sourceId,
    metadata: { lots: takes },
  });
  const delta = { balance: input.points, pending: -pendingTaken(takes) };
  return {
    status: 201 as const,
    body: { entries: [e.view], balance: balanceAfter(member, delta) },
    statements: [
      e.statement,
      ...consumeLots(scope, e.row.id, takes),
      memberDelta(scope, delta),
      outbox(scope, "points.adjusted", { points: input.points, reason, entryId: e.row.id }),
    ],
  };
}
