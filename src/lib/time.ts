const DAY_MS = 86_400_000;

export const nowIso = (now = new Date()) => now.toISOString();
export const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();
export const daysBetween = (fromIso: string, toIso: string) => (Date.parse(toIso) - Date.parse(fromIso)) / DAY_MS;
/** Normalise any accepted ISO-8601 input to UTC `...Z` form. */
export const toUtcIso = (iso: string) => new Date(iso).toISOString();
export { DAY_MS };
