// Message delivery retries: exponential backoff from 30 s, doubling, capped at 6 h, for at
// most 8 attempts (about 4 hours of retrying in total) before a message is marked failed.

export const MESSAGE_MAX_ATTEMPTS = 8;
const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 6 * 3_600_000;

/** Delay before the next attempt after `failedAttempts` failures, or null when it is time to give up. */
export function messageRetryDelayMs(failedAttempts: number): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1 || failedAttempts >= MESSAGE_MAX_ATTEMPTS) return null;
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failedAttempts - 1));
}

/** Where a channel's message goes: the member address that channel needs, nothing more. */
export function recipientFor(channel: string, member: { id: string; externalId: string; email: string | null; phone: string | null }) {
  const base = { memberId: member.id, externalId: member.externalId };
  if (channel === "email") return { ...base, email: member.email };
  if (channel === "sms") return { ...base, phone: member.phone };
  return base;
}
