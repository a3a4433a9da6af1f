import { describe, expect, it } from "vitest";
import {
  addLocalMonths,
  birthdaysCelebratedOn,
  isFirstLocalHour,
  isValidTimeZone,
  localDate,
  localDayRange,
  localMinuteOfDay,
  localMonthRange,
  localWeekday,
  startOfLocalDay,
} from "../../src/domain/local-time";

const hours = (r: { start: string; end: string }) => (Date.parse(r.end) - Date.parse(r.start)) / 3_600_000;

describe("local time", () => {
  it("accepts IANA zones Intl knows and refuses the rest", () => {
    for (const z of ["UTC", "Asia/Taipei", "America/New_York", "Asia/Kolkata", "Australia/Eucla"]) expect(isValidTimeZone(z)).toBe(true);
    for (const z of ["", "Mars/Olympus", "Asia/Taipei ", "x".repeat(100), "+08:00x"]) expect(isValidTimeZone(z)).toBe(false);
  });

  it("reads the local date and week day around Taipei midnight (UTC+8)", () => {
    // Friday 2026-11-27 23:30 and Saturday 2026-11-28 00:30 in Taipei.
    expect(localDate("2026-11-27T15:30:00Z", "Asia/Taipei")).toBe("2026-11-27");
    expect(localWeekday("2026-11-27T15:30:00Z", "Asia/Taipei")).toBe(5);
    expect(localDate("2026-11-27T16:30:00Z", "Asia/Taipei")).toBe("2026-11-28");
    expect(localWeekday("2026-11-27T16:30:00Z", "Asia/Taipei")).toBe(6);
    expect(localMinuteOfDay("2026-11-27T16:30:00Z", "Asia/Taipei")).toBe(30);
    expect(localWeekday("2026-11-27T16:30:00Z", "UTC")).toBe(5);
  });

  it("gives DST days in New York 23 and 25 hours, other days 24", () => {
    expect(localDayRange("2026-03-08", "America/New_York")).toEqual({ start: "2026-03-08T05:00:00.000Z", end: "2026-03-09T04:00:00.000Z" });
    expect(hours(localDayRange("2026-03-08", "America/New_York"))).toBe(23);
    expect(hours(localDayRange("2026-11-01", "America/New_York"))).toBe(25);
    expect(hours(localDayRange("2026-11-02", "America/New_York"))).toBe(24);
    expect(hours(localDayRange("2026-03-08", "UTC"))).toBe(24);
  });

  it("finds the start of a day whose midnight does not exist, and half- and quarter-hour zones", () => {
    // Santiago springs forward at 24:00 on the first Saturday of September: 2026-09-06 starts at 01:00 local.
    const start = startOfLocalDay("2026-09-06", "America/Santiago");
    expect(localDate(start, "America/Santiago")).toBe("2026-09-06");
    expect(localDate(start - 1, "America/Santiago")).toBe("2026-09-05");
    expect(localDayRange("2026-11-27", "Asia/Kolkata").start).toBe("2026-11-26T18:30:00.000Z");
    expect(localDayRange("2026-11-27", "Asia/Kathmandu").start).toBe("2026-11-26T18:15:00.000Z");
  });

  it("spans local months, across a year end", () => {
    expect(addLocalMonths("2026-12", 1)).toBe("2027-01");
    expect(addLocalMonths("2026-01", -1)).toBe("2025-12");
    expect(localMonthRange("2026-12", "Asia/Taipei")).toEqual({ start: "2026-11-30T16:00:00.000Z", end: "2026-12-31T16:00:00.000Z" });
  });

  it("celebrates 29 February birthdays on 28 February in non-leap years, on the day itself in leap years", () => {
    expect(birthdaysCelebratedOn("2027-02-28")).toEqual(["02-28", "02-29"]);
    expect(birthdaysCelebratedOn("2028-02-28")).toEqual(["02-28"]);
    expect(birthdaysCelebratedOn("2028-02-29")).toEqual(["02-29"]);
    expect(birthdaysCelebratedOn("2027-03-01")).toEqual(["03-01"]);
    expect(birthdaysCelebratedOn("2100-02-28")).toEqual(["02-28", "02-29"]);
  });

  it("marks exactly one hourly run per local day as the first local hour", () => {
    for (const zone of ["UTC", "Asia/Taipei", "America/New_York", "Asia/Kolkata"]) {
      for (const day of ["2026-03-08", "2026-11-01", "2026-06-15"]) {
        const { start, end } = localDayRange(day, zone);
        let hits = 0;
        // Hourly ticks on the UTC hour, as the cron runs them.
        for (let t = Math.ceil(Date.parse(start) / 3_600_000) * 3_600_000; t < Date.parse(end); t += 3_600_000)
          if (isFirstLocalHour(t, zone)) hits++;
        expect(hits, `${zone} ${day}`).toBe(1);
      }
    }
  });
});
