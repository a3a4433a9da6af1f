/**
 * A program's local calendar: instants stay UTC everywhere (API, database); a day, a week
 * day, a month or midnight is read in the program's IANA time zone with Intl, which knows
 * every zone's offsets and DST rules without a dependency. Pure functions over strings and
 * epoch milliseconds. Dates are `YYYY-MM-DD`, months `YYYY-MM`.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** An IANA zone name Intl knows (e.g. `Asia/Taipei`, `America/New_York`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone || timeZone.length > 64) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export type LocalParts = { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number };

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

const epochOf = (instant: string | number | Date) =>
  typeof instant === "number" ? instant : typeof instant === "string" ? Date.parse(instant) : instant.getTime();

/** The wall clock in `timeZone` at `instant`; weekday 0 = Sunday. */
function localParts(instant: string | number | Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(epochOf(instant))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday] ?? 0,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const dateOf = (year: number, month: number, day: number) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`;

/** The local date (`YYYY-MM-DD`) at `instant`. */
export function localDate(instant: string | number | Date, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return dateOf(p.year, p.month, p.day);
}

/** The local month (`YYYY-MM`) at `instant`. */
export const localMonth = (instant: string | number | Date, timeZone: string) => localDate(instant, timeZone).slice(0, 7);

/** The local week day at `instant`, 0 = Sunday … 6 = Saturday. */
export const localWeekday = (instant: string | number | Date, timeZone: string) => localParts(instant, timeZone).weekday;

/** Minutes since local midnight at `instant` (0–1439). */
export function localMinuteOfDay(instant: string | number | Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return p.hour * 60 + p.minute;
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in milliseconds. */
function utcOffsetMs(instant: string | number | Date, timeZone: string): number {
  const at = epochOf(instant);
  const p = localParts(at, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  // The wall clock has whole seconds; compare it with the instant floored to its second.
  return wall - Math.floor(at / 1000) * 1000;
}

/** `date` plus `days` calendar days. */
export function addLocalDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** `month` plus `months` calendar months. */
export function addLocalMonths(month: string, months: number): string {
  const [y, m] = month.split("-").map(Number);
  const index = y * 12 + (m - 1) + months;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1)}`;
}

/**
 * The first instant of local `date` in `timeZone`, as epoch milliseconds: local midnight, or
 * where a DST change skips midnight (e.g. America/Santiago), the first instant that exists.
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  const wallMidnight = Date.parse(`${date}T00:00:00Z`);
  let at = wallMidnight - utcOffsetMs(wallMidnight, timeZone);
  // The offset at the guess can differ from the one at local midnight (a change in between).
  at = wallMidnight - utcOffsetMs(at, timeZone);
  // Midnight did not exist that day: the day starts where the clock jumped to.
  while (localDate(at, timeZone) < date) at += HOUR / 2;
  while (localDate(at - HOUR / 2, timeZone) === date) at -= HOUR / 2;
  return at;
}

/** Local `date` as UTC instants [start, end): 24 hours long, or 23 / 25 on DST change days. */
export function localDayRange(date: string, timeZone: string): { start: string; end: string } {
  return {
    start: new Date(startOfLocalDay(date, timeZone)).toISOString(),
    end: new Date(startOfLocalDay(addLocalDays(date, 1), timeZone)).toISOString(),
  };
}

/** Local `month` (`YYYY-MM`) as UTC instants [start, end). */
export function localMonthRange(month: string, timeZone: string): { start: string; end: string } {
  return {
    start: new Date(startOfLocalDay(`${month}-01`, timeZone)).toISOString(),
    end: new Date(startOfLocalDay(`${addLocalMonths(month, 1)}-01`, timeZone)).toISOString(),
  };
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/**
 * The `MM-DD` birthdays celebrated on local `date`: its own, and on 28 February of a
 * non-leap year also 29 February's, so those members are celebrated in their birth month
 * every year. Earning rules and campaigns both use this.
 */
export function birthdaysCelebratedOn(date: string): string[] {
  const monthDay = date.slice(5, 10);
  const year = Number(date.slice(0, 4));
  return monthDay === "02-28" && !isLeapYear(year) ? ["02-28", "02-29"] : [monthDay];
}

/**
 * Programs whose local day has just begun: true when `instant` falls in the first hour of
 * the local day. Jobs tied to local midnight run hourly and act for these programs only,
 * so each program's midnight is hit once, whatever its offset (whole, half or quarter hour).
 */
export function isFirstLocalHour(instant: string | number | Date, timeZone: string): boolean {
  const at = epochOf(instant);
  return at - startOfLocalDay(localDate(at, timeZone), timeZone) < HOUR;
}

/**
 * Whole years from local date `since` to local date `on` (both `YYYY-MM-DD`); a 29 February
 * start completes its years on 28 February in non-leap years (as birthdays are celebrated).
 */
export function wholeYearsBetween(since: string, on: string): number {
  const [y1, y2] = [Number(since.slice(0, 4)), Number(on.slice(0, 4))];
  let startMonthDay = since.slice(5, 10);
  if (startMonthDay === "02-29" && !isLeapYear(y2)) startMonthDay = "02-28";
  return Math.max(0, y2 - y1 - (on.slice(5, 10) < startMonthDay ? 1 : 0));
}
