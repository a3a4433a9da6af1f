import { describe, expect, it } from "vitest";
import { endOfLocalPeriod, expiryPolicyOf, inactivityDeadline, lotExpiry, storedExpiry } from "../../src/domain/points/expiry";

describe("expiry policies", () => {
  it("end of period: the next local period's first instant, across DST changes and year ends", () => {
    const ny = "America/New_York";
    // Earned in EST (November), the month ends in EST; three months on it ends in EDT (April 1st, 00:00 -04:00).
    expect(endOfLocalPeriod("2026-11-20T15:00:00.000Z", ny, "month", 0)).toBe("2026-12-01T05:00:00.000Z");
    expect(endOfLocalPeriod("2026-12-20T15:00:00.000Z", ny, "month", 3)).toBe("2027-04-01T04:00:00.000Z");
    // The DST change falls inside the month itself (2027-03-14): the end moves with the local clock.
    expect(endOfLocalPeriod("2027-03-01T06:00:00.000Z", ny, "month", 0)).toBe("2027-04-01T04:00:00.000Z");
    // 00:30 UTC on 1 April is still 31 March in New York: that month's end is an hour and a half away.
    expect(endOfLocalPeriod("2027-04-01T02:30:00.000Z", ny, "month", 0)).toBe("2027-04-01T04:00:00.000Z");
    // Taipei is 8 hours ahead: 20:00 UTC on 31 December is already January there.
    expect(endOfLocalPeriod("2026-12-31T20:00:00.000Z", "Asia/Taipei", "month", 0)).toBe("2027-01-31T16:00:00.000Z");
    expect(endOfLocalPeriod("2026-12-31T15:00:00.000Z", "Asia/Taipei", "month", 0)).toBe("2026-12-31T16:00:00.000Z");
    // Quarters start in January, April, July and October; years in January.
    expect(endOfLocalPeriod("2026-05-10T12:00:00.000Z", "UTC", "quarter", 0)).toBe("2026-07-01T00:00:00.000Z");
    expect(endOfLocalPeriod("2026-12-10T12:00:00.000Z", "UTC", "quarter", 1)).toBe("2027-04-01T00:00:00.000Z");
    expect(endOfLocalPeriod("2026-02-10T12:00:00.000Z", "UTC", "year", 1)).toBe("2028-01-01T00:00:00.000Z");
    expect(endOfLocalPeriod("2026-07-04T12:00:00.000Z", ny, "year", 0)).toBe("2027-01-01T05:00:00.000Z");
  });

  it("a lot's expiry under each policy", () => {
    const at = "2026-06-15T10:00:00.000Z";
    expect(lotExpiry({ kind: "never" }, at, "UTC")).toEqual({ kind: "date", expiresAt: null });
    expect(lotExpiry({ kind: "afterEarning", days: 10 }, at, "UTC")).toEqual({ kind: "date", expiresAt: "2026-06-25T10:00:00.000Z" });
    expect(lotExpiry({ kind: "endOfPeriod", period: "month", periodsAfter: 1 }, at, "UTC")).toEqual({
      kind: "period",
      expiresAt: "2026-08-01T00:00:00.000Z",
    });
    expect(lotExpiry({ kind: "inactivity", days: 90 }, at, "UTC")).toEqual({ kind: "inactivity" });
  });

  it("stored policies read back as they were set; the legacy days column still reads", () => {
    for (const policy of [
      { kind: "never" },
      { kind: "afterEarning", days: 365 },
      { kind: "endOfPeriod", period: "quarter", periodsAfter: 4 },
      { kind: "inactivity", days: 180 },
    ] as const)
      expect(expiryPolicyOf(storedExpiry(policy))).toEqual(policy);
    expect(expiryPolicyOf({ expiryDays: 30, expiryPolicy: null })).toEqual({ kind: "afterEarning", days: 30 });
  });

  it("inactivity deadline: a purchase moves it forward, never back; another credit only starts one; a passed one is over", () => {
    const now = "2026-06-15T10:00:00.000Z";
    expect(inactivityDeadline(null, now, 30, true)).toBe("2026-07-15T10:00:00.000Z");
    expect(inactivityDeadline("2026-06-20T00:00:00.000Z", now, 30, true)).toBe("2026-07-15T10:00:00.000Z");
    // Lowering the days shortens no deadline still ahead.
    expect(inactivityDeadline("2026-09-01T00:00:00.000Z", now, 30, true)).toBe("2026-09-01T00:00:00.000Z");
    expect(inactivityDeadline("2026-06-20T00:00:00.000Z", now, 30, false)).toBe("2026-06-20T00:00:00.000Z");
    expect(inactivityDeadline(null, now, 30, false)).toBe("2026-07-15T10:00:00.000Z");
    expect(inactivityDeadline("2026-06-01T00:00:00.000Z", now, 30, false)).toBe("2026-07-15T10:00:00.000Z");
  });
});
