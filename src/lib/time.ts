const DAY_MS = 86_400_000;

export const nowIso = (now = new Date()) => now.toISOString();
export const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();
/** Normalise any accepted ISO-8601 input to UTC `...Z` form. */
export const toUtcIso = (iso: string) => new Date(iso).toISOString();
