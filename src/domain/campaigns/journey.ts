// Journeys: a campaign whose members walk through steps over days instead of receiving one
// set of actions. Steps form a directed acyclic graph by id (`next`, a branch's `yes`/`no`);
// a step without a successor ends the run. Validation rejects unknown step references and
// cycles with the path that loops, so a journey always finishes.
import { z } from "zod";
import { localDate, localMinuteOfDay, startOfLocalDay } from "../local-time";
import { segmentRuleSchema } from "../segments/rule";
import { CHANNELS } from "./channels";

const stepId = z.string().regex(/^[a-z0-9_-]{1,40}$/, "step ids are 1–40 of a-z, 0-9, _ and -");
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a local time of day, HH:MM (24 h)");

const sendStep = z.strictObject({
  id: stepId,
  type: z.literal("send"),
  channel: z.enum(CHANNELS),
  /** Same placeholders as a campaign's send_message, plus the trigger's facts. */
  template: z.string().min(1).max(5000),
  next: stepId.optional(),
});

/**
 * Wait `days`/`hours`/`minutes`, then (with `untilLocalTime`) until the next time the
 * program's clock shows that time — "2 days, then 10:00" or just "until 10:00".
 */
const waitStep = z
  .strictObject({
    id: stepId,
    type: z.literal("wait"),
    days: z.int().min(0).max(365).optional(),
    hours: z
      .int()
      .min(0)
      .max(24 * 365)
      .optional(),
    minutes: z
      .int()
      .min(0)
      .max(60 * 24 * 365)
      .optional(),
    untilLocalTime: localTime.optional(),
    next: stepId.optional(),
  })
  .refine((w) => (w.days ?? 0) + (w.hours ?? 0) + (w.minutes ?? 0) > 0 || w.untilLocalTime !== undefined, {
    message: "a wait needs a duration (days, hours, minutes) or untilLocalTime",
  });

/** What a branch tests: a segment rule on the member now, or what they did since entering the journey. */
const branchCondition = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("segment"), rule: segmentRuleSchema }),
  z.strictObject({ type: z.literal("purchased") }),
  /** Opened/clicked one of this run's messages (of `stepId` only, when given). */
  z.strictObject({ type: z.literal("opened"), stepId: stepId.optional() }),
  z.strictObject({ type: z.literal("clicked"), stepId: stepId.optional() }),
]);

const branchStep = z.strictObject({
  id: stepId,
  type: z.literal("branch"),
  condition: branchCondition,
  /** Where members go when the condition holds, and when it does not (omitted: the run ends). */
  yes: stepId.optional(),
  no: stepId.optional(),
});

/** Points (through the member's ledger object, counted against the campaign's budget) or a reward's coupon. */
const awardStep = z
  .strictObject({
    id: stepId,
    type: z.literal("award"),
    points: z.int().min(1).max(10_000_000).optional(),
    rewardId: z.string().min(1).max(64).optional(),
    next: stepId.optional(),
  })
  .refine((a) => a.points !== undefined || a.rewardId !== undefined, { message: "an award gives points or a rewardId" });

const exitStep = z.strictObject({ id: stepId, type: z.literal("exit") });

const stepSchema = z.union([sendStep, waitStep, branchStep, awardStep, exitStep]);
export type JourneyStep = z.infer<typeof stepSchema>;

/** Events that end a member's run early, checked before every step. */
const EXIT_CONDITIONS = ["purchase", "unsubscribe", "stage_change"] as const;
export type ExitCondition = (typeof EXIT_CONDITIONS)[number];

const MAX_STEPS = 50;

/** Step ids a step leads to. */
function successorsOf(step: JourneyStep): string[] {
  if (step.type === "branch") return [step.yes, step.no].filter((s): s is string => s !== undefined);
  if (step.type === "exit") return [];
  return step.next ? [step.next] : [];
}

/** Problems with the graph: duplicate ids, unknown references, cycles (with the loop spelled out). */
function journeyGraphProblems(steps: readonly JourneyStep[], entryStepIds: readonly string[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, JourneyStep>();
  for (const s of steps) {
    if (byId.has(s.id)) problems.push(`step id ${s.id} is used twice`);
    byId.set(s.id, s);
  }
  for (const s of steps) for (const to of successorsOf(s)) if (!byId.has(to)) problems.push(`step ${s.id} refers to unknown step ${to}`);
  for (const s of steps)
    if (s.type === "branch" && (s.condition.type === "opened" || s.condition.type === "clicked") && s.condition.stepId) {
      const target = byId.get(s.condition.stepId);
      if (target?.type !== "send") problems.push(`step ${s.id} tests ${s.condition.stepId}, which is not a send step`);
    }
  for (const entry of entryStepIds) if (!byId.has(entry)) problems.push(`entry step ${entry} is not a step`);
  if (problems.length) return problems;
  // Depth-first search; a grey node met again closes a cycle.
  const state = new Map<string, "grey" | "black">();
  const path: string[] = [];
  const visit = (id: string): string | null => {
    if (state.get(id) === "black") return null;
    if (state.get(id) === "grey") return [...path.slice(path.indexOf(id)), id].join(" → ");
    state.set(id, "grey");
    path.push(id);
    for (const to of successorsOf(byId.get(id) as JourneyStep)) {
      const loop = visit(to);
      if (loop) return loop;
    }
    path.pop();
    state.set(id, "black");
    return null;
  };
  for (const s of steps) {
    const loop = visit(s.id);
    if (loop) {
      problems.push(`steps form a cycle: ${loop}`);
      break;
    }
  }
  return problems;
}

export const journeySchema = z
  .strictObject({
    /** Where runs start; default the first step. Experiment variants may start elsewhere (variant.entryStepId). */
    entryStepId: stepId.optional(),
    steps: z.array(stepSchema).min(1).max(MAX_STEPS),
    exitOn: z.array(z.enum(EXIT_CONDITIONS)).max(3).default([]),
  })
  .superRefine((j, ctx) => {
    for (const message of journeyGraphProblems(j.steps, j.entryStepId ? [j.entryStepId] : []))
      ctx.addIssue({ code: "custom", message, path: ["steps"] });
  });
export type JourneyDefinition = z.infer<typeof journeySchema>;

export const entryStepOf = (j: JourneyDefinition, variantEntry?: string | null) => variantEntry ?? j.entryStepId ?? j.steps[0].id;

type Clock = { localDate: (at: number) => string; instantOf: (date: string, minute: number) => number };

/** The program's clock: local dates, and the instant a local date shows a minute of the day (DST-aware). */
export function programClock(timeZone: string): Clock {
  return {
    localDate: (at) => localDate(at, timeZone),
    instantOf: (date, minute) => {
      let at = startOfLocalDay(date, timeZone) + minute * 60_000;
      // A DST change earlier that day moves the wall clock: correct by what it shows.
      const drift = localMinuteOfDay(at, timeZone) - minute;
      if (drift !== 0 && localDate(at, timeZone) === date) at -= drift * 60_000;
      return at;
    },
  };
}

/**
 * When a wait step started at `from` is over: plus its duration, then forward to the next
 * `untilLocalTime` on the program's clock (the same instant if it is exactly that time).
 */
export function waitUntil(step: Extract<JourneyStep, { type: "wait" }>, from: Date, clock: Clock): Date {
  let at = from.getTime() + ((step.days ?? 0) * 1440 + (step.hours ?? 0) * 60 + (step.minutes ?? 0)) * 60_000;
  if (step.untilLocalTime) {
    const [h, m] = step.untilLocalTime.split(":").map(Number);
    const target = h * 60 + m;
    const today = clock.localDate(at);
    let candidate = clock.instantOf(today, target);
    if (candidate < at) {
      const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      candidate = clock.instantOf(tomorrow, target);
    }
    at = candidate;
  }
  return new Date(at);
}
