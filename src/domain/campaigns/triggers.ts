// Trigger matching: which outbox events and which calendar facts make a campaign fire for a
// member, and the occurrence key that makes each firing happen at most once
// (unique campaign_occurrences(campaign, member, occurrence_key)).
import type { CampaignTrigger } from "./definition";

export type OutboxEventFacts = { id: string; type: string; memberId: string | null; payload: Record<string, unknown>; createdAt: string };

/** The outbox event type each event-driven trigger listens to. */
const EVENT_TYPE_OF = { welcome: "member.created", tier_up: "tier.changed", stage_change: "stage.changed" } as const;
export const CONSUMED_EVENT_TYPES = Object.values(EVENT_TYPE_OF);

/**
 * The occurrence key when `event` fires `trigger`, or null when it does not match.
 * Signup fires once per member ("welcome"); tier and stage changes once per event.
 */
export function matchEvent(trigger: CampaignTrigger, event: OutboxEventFacts): string | null {
  if (!event.memberId) return null;
  switch (trigger.type) {
    case "welcome":
      return event.type === "member.created" ? "welcome" : null;
    case "tier_up": {
      if (event.type !== "tier.changed" || event.payload.change !== "upgrade") return null;
      const to = typeof event.payload.to === "string" ? event.payload.to : null;
      if (trigger.toTierIds?.length && (!to || !trigger.toTierIds.includes(to))) return null;
      return `tier_up:${event.id}`;
    }
    case "stage_change": {
      if (event.type !== "stage.changed") return null;
      const to = event.payload.to;
      const from = event.payload.from;
      if (typeof to !== "string" || !(trigger.to as readonly string[]).includes(to)) return null;
      if (trigger.from?.length && (typeof from !== "string" || !(trigger.from as readonly string[]).includes(from))) return null;
      return `stage:${to}:${event.id}`;
    }
    default:
      return null;
  }
}

/** Template fields an event contributes (e.g. the new tier or stage). */
export function eventContext(event: OutboxEventFacts): Record<string, string | number | null> {
  const p = event.payload;
  const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? v : null);
  if (event.type === "tier.changed") return { newTier: str(p.toName) ?? str(p.to), previousTierId: str(p.from) };
  if (event.type === "stage.changed") return { newStage: str(p.to), previousStage: str(p.from) };
  return {};
}

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Birthday `MM-DD` values that count as "today" (UTC): today's, plus 02-29 on 28 February
 * of a non-leap year so those members are not skipped three years in four.
 */
export function birthdayMonthDaysOn(day: Date): string[] {
  const mmdd = day.toISOString().slice(5, 10);
  return mmdd === "02-28" && !isLeapYear(day.getUTCFullYear()) ? [mmdd, "02-29"] : [mmdd];
}

/** Once per member per year, whether the campaign celebrates the day or the month. */
export const birthdayOccurrenceKey = (day: Date) => `birthday:${day.getUTCFullYear()}`;

/** One reminder per member per first-expiry date inside the look-ahead window. */
export const expiringOccurrenceKey = (firstExpiresAt: string) => `expiring:${firstExpiresAt.slice(0, 10)}`;

export const BROADCAST_OCCURRENCE_KEY = "broadcast";

/** A broadcast is due once active and past its send time. */
export const broadcastDue = (trigger: Extract<CampaignTrigger, { type: "broadcast" }>, now: string) =>
  !trigger.sendAt || Date.parse(trigger.sendAt) <= Date.parse(now);
