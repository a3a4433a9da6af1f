// The program-wide contact policy: how many messages one member may receive per local day and
// per local week (Monday to Sunday) across every campaign and journey, and the quiet hours in
// which nothing is sent (messages wait for the hours to end; they are not dropped). When more
// messages compete than the cap allows, the campaigns' priorities decide (then the oldest).
import { z } from "zod";

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a local time of day, HH:MM (24 h)");

export const contactPolicySchema = z.strictObject({
  maxPerDay: z.int().min(1).max(1000).nullable().default(null),
  maxPerWeek: z.int().min(1).max(10_000).nullable().default(null),
  /** [start, end) on the program's clock; start after end spans midnight (21:00–09:00). */
  quietHours: z
    .strictObject({ start: localTime, end: localTime })
    .refine((q) => q.start !== q.end, { message: "quiet hours need start ≠ end" })
    .nullable()
    .default(null),
});
export type ContactPolicy = z.infer<typeof contactPolicySchema>;

export const NO_POLICY: ContactPolicy = { maxPerDay: null, maxPerWeek: null, quietHours: null };

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether local minute-of-day `minute` falls in the quiet hours. */
function inQuietHours(policy: ContactPolicy, minute: number): boolean {
  if (!policy.quietHours) return false;
  const start = minuteOf(policy.quietHours.start);
  const end = minuteOf(policy.quietHours.end);
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** Minutes from local minute-of-day `minute` until the quiet hours end (0 outside them). */
export function minutesUntilQuietEnds(policy: ContactPolicy, minute: number): number {
  if (!policy.quietHours || !inQuietHours(policy, minute)) return 0;
  const end = minuteOf(policy.quietHours.end);
  return (end - minute + 1440) % 1440;
}

/** The local date the week of local `date` (YYYY-MM-DD) starts on, Monday; `weekday` 0 = Sunday. */
export function weekStartOf(date: string, weekday: number): string {
  const back = (weekday + 6) % 7;
  return new Date(Date.parse(`${date}T00:00:00Z`) - back * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Which competing messages of one member may go now: in priority order (higher first, then
 * older), as many as both caps still allow given what was already sent today and this week.
 */
export function admitUnderCaps<T extends { priority: number; createdAt: string; id: string }>(
  policy: ContactPolicy,
  sent: { today: number; thisWeek: number },
  candidates: readonly T[],
): { admitted: T[]; refused: T[] } {
  const ordered = [...candidates].sort(
    (a, b) => b.priority - a.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  const roomToday = policy.maxPerDay === null ? Number.POSITIVE_INFINITY : Math.max(0, policy.maxPerDay - sent.today);
  const roomWeek = policy.maxPerWeek === null ? Number.POSITIVE_INFINITY : Math.max(0, policy.maxPerWeek - sent.thisWeek);
  const room = Math.min(roomToday, roomWeek);
  return { admitted: ordered.slice(0, room), refused: ordered.slice(room) };
}
