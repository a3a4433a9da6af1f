// Trigger matching: which outbox events and which calendar facts make a campaign fire for a
// member, and the occurrence key that makes each firing happen at most once
// (unique campaign_occurrences(campaign, member, occurrence_key)).

import { birthdaysCelebratedOn } from "../local-time";
import type { CampaignTrigger } from "./definition";

export type OutboxEventFacts = { id: string; type: string; memberId: string | null; payload: Record<string, unknown>; createdAt: string };

/** The outbox event type each event-driven trigger listens to. */
const EVENT_TYPE_OF = {
  welcome: "member.created",
  tier_up: "tier.changed",
  stage_change: "stage.changed",
  first_purchase: "order.accrued",
} as const;
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
    case "first_purchase":
      return event.type === "order.accrued" && event.payload.firstOrder === true ? "first_purchase" : null;
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
  if (event.type === "order.accrued") return { orderId: str(p.orderId), orderAmount: str(p.amount) };
  return {};
}

/** Birthday `MM-DD` values celebrated on the program's local date `day` (29 February on the 28th in other years). */
export const birthdayMonthDaysOn = (day: string): string[] => birthdaysCelebratedOn(day);

/** Once per member per (local) year, whether the campaign celebrates the day or the month. */
export const birthdayOccurrenceKey = (day: string) => `birthday:${day.slice(0, 4)}`;

/** One reminder per member per first-expiry date (local) inside the look-ahead window. */
export const expiringOccurrenceKey = (expiresOn: string) => `expiring:${expiresOn.slice(0, 10)}`;

export const BROADCAST_OCCURRENCE_KEY = "broadcast";

/** A broadcast is due once active and past its send time. */
export const broadcastDue = (trigger: Extract<CampaignTrigger, { type: "broadcast" }>, now: string) =>
  !trigger.sendAt || Date.parse(trigger.sendAt) <= Date.parse(now);

/** Once per member per (local) year of membership. */
export const anniversaryOccurrenceKey = (day: string) => `anniversary:${day.slice(0, 4)}`;

/** Once per entry into the segment (its added_at). */
export const segmentEntryOccurrenceKey = (addedAt: string) => `segment_entry:${addedAt}`;

/** Once per member, next tier and stay in the current tier. */
export const closeToTierOccurrenceKey = (nextTierId: string, tierSince: string | null) => `near:${nextTierId}:${tierSince ?? "-"}`;

/** Once per member per securedUntil date. */
export const tierAtRiskOccurrenceKey = (securedUntil: string) => `at_risk:${securedUntil.slice(0, 10)}`;
