import { z } from "zod";
import { readTogether } from "../../db/batch-read";
import { ActivityAttributes } from "../../domain/members/free-form";
import { isSystemTrigger, reportedKindProblem, type TriggerType } from "../../domain/rules/schema";
import { AppError } from "../../lib/errors";
import { earnByRules, earningAndTierRead } from "../earning";
import { allowedOccurredAt } from "../occurred-at";
import {
  balanceAfter,
  type EntryView,
  entry,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  programAndMemberRead,
  requireActive,
  type WriteScope,
} from "../state";
import { tierUpgrade } from "../tier-upgrade";

export const ActivityInput = z.object({
  kind: z.string().trim().min(1).max(64),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  attributes: ActivityAttributes.optional(),
});
export type ActivityInput = z.input<typeof ActivityInput>;

/**
 * The rules an activity runs: a system kind its own trigger; review and survey theirs (a client
 * may report them directly, as POST /feedback does); any other kind the `activity` rules whose
 * `kind` matches (or that name no kind).
 */
function triggerForKind(kind: string): { type: TriggerType; kind?: string } {
  // The membership anniversary is a milestone event: it runs the anniversary milestone rules.
  if (kind === "anniversary") return { type: "milestone", kind };
  if (isSystemTrigger(kind) || kind === "review" || kind === "survey") return { type: kind as TriggerType };
  return { type: "activity", kind };
}

/**
 * A non-purchase activity: a kind a client reports (review, survey, check-in, custom), or a
 * system bonus (signup, birthday, referral) — each only through its own door. Evaluates the
 * same rules engine, credits what it earns as an available lot, records the activity, and
 * upgrades the tier when the points qualify the member for a higher one.
 */
export async function planActivity(scope: WriteScope, raw: ActivityInput, source: "reported" | "bonus") {
  // Routes validate first; this holds for every other caller too (a 400, never a 500).
  const parsed = ActivityInput.safeParse(raw);
  if (!parsed.success) throw new AppError("invalid_request", `Invalid activity: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const input = parsed.data;
  if (source === "reported") {
    const problem = reportedKindProblem(input.kind);
    if (problem) throw new AppError("invalid_request", problem, { field: "kind", reason: "system_kind" });
  } else if (!isSystemTrigger(input.kind)) throw new AppError("invalid_request", `"${input.kind}" is not a system bonus kind`);
  // One round trip: program, member, rules, ladder, usage, segments and tier figures.
  const [{ program, member }, loaded] = await readTogether(scope.db, [programAndMemberRead(scope), earningAndTierRead(scope)]);
  requireActive(member);
  const occurredAt = allowedOccurredAt(scope, program, input.occurredAt);
  const { result, statements } = earnByRules(scope, { program, member }, { trigger: triggerForKind(input.kind), occurredAt }, loaded);
  const entries: EntryView[] = [];
  let delta: MemberDelta = { balance: 0, earned: result.points };
  if (result.points > 0) {
    const e = entry(scope, {
      type: "earn",
      points: result.points,
      reason: `Activity: ${input.kind}`,
      sourceType: "activity",
      sourceId: input.kind,
      metadata: { lines: result.lines, attributes: input.attributes ?? {} },
    });
    const lot = newLot(scope, program, member, { entryId: e.row.id, points: result.points, hold: false, owed: owedBy(member) });
    delta = { ...lot.delta, earned: result.points };
    entries.push(e.view, ...(lot.repayment ? [lot.repayment] : []));
    statements.push(
      e.statement,
      ...lot.statements,
      outbox(scope, "points.earned", { points: result.points, activity: input.kind, entryId: e.row.id }),
    );
  }
  statements.push(
    memberDelta(scope, delta, { lastActivityAt: occurredAt }),
    outbox(scope, "activity.recorded", { kind: input.kind, occurredAt, points: result.points }),
  );
  const tier = await tierUpgrade(scope, member, loaded, { spend: 0, orders: 0, pointsEarned: result.points, activeDays: 0 });
  statements.push(...tier.statements);
  return {
    status: 201 as const,
    body: {
      kind: input.kind,
      pointsEarned: result.points,
      lines: result.lines,
      entries,
      balance: balanceAfter(member, delta),
      ...(tier.change ? { tierChange: tier.change } : {}),
    },
    statements,
  };
}
