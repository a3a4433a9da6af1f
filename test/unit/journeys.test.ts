import { describe, expect, it } from "vitest";
import { admitUnderCaps, contactPolicySchema, minutesUntilQuietEnds, weekStartOf } from "../../src/domain/campaigns/contact-policy";
import { campaignDefinitionSchema } from "../../src/domain/campaigns/definition";
import { journeySchema, programClock, waitUntil } from "../../src/domain/campaigns/journey";
import { JOURNEY_TEMPLATES, templateParamsSchema } from "../../src/domain/campaigns/journey-templates";

const send = (id: string, next?: string) => ({ id, type: "send", channel: "email", template: "x", ...(next ? { next } : {}) });

describe("journey graph", () => {
  it("accepts a DAG, rejects cycles (spelled out), duplicates and unknown references", () => {
    expect(journeySchema.safeParse({ steps: [send("a", "b"), send("b")] }).success).toBe(true);
    const loop = journeySchema.safeParse({
      steps: [send("a", "b"), { id: "b", type: "branch", condition: { type: "purchased" }, yes: "c", no: "a" }, send("c")],
    });
    expect(loop.success).toBe(false);
    expect(loop.error?.issues.map((i) => i.message)).toEqual(["steps form a cycle: a → b → a"]);
    const self = journeySchema.safeParse({ steps: [send("a", "a")] });
    expect(self.error?.issues.map((i) => i.message)).toEqual(["steps form a cycle: a → a"]);
    const dup = journeySchema.safeParse({ steps: [send("a"), send("a")] });
    expect(dup.error?.issues.map((i) => i.message)).toContain("step id a is used twice");
    const unknownEntry = journeySchema.safeParse({ entryStepId: "z", steps: [send("a")] });
    expect(unknownEntry.error?.issues.map((i) => i.message)).toEqual(["entry step z is not a step"]);
    const notSend = journeySchema.safeParse({
      steps: [
        { id: "w", type: "wait", days: 1, next: "b" },
        { id: "b", type: "branch", condition: { type: "opened", stepId: "w" } },
      ],
    });
    expect(notSend.error?.issues.map((i) => i.message)).toEqual(["step b tests w, which is not a send step"]);
  });

  it("every ready-made template builds a valid journey campaign with defaults and with parameters", () => {
    for (const t of JOURNEY_TEMPLATES) {
      for (const params of [{}, { channel: "line", points: 5, daysAhead: 14, withinMinor: 1, sendAt: "19:30" }]) {
        const parsed = campaignDefinitionSchema.safeParse(t.build(templateParamsSchema.parse(params)));
        expect(parsed.success, `${t.key}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
        expect(parsed.data?.journey?.steps.length).toBeGreaterThan(1);
      }
    }
  });
});

describe("wait steps on the program's clock", () => {
  it("a duration, then the next HH:MM local (Taipei, no DST)", () => {
    const clock = programClock("Asia/Taipei");
    const step = { id: "w", type: "wait" as const, days: 2, untilLocalTime: "10:00" };
    // 2026-03-01 15:00 Taipei = 07:00Z; +2 days = 03-03 15:00 local, past 10:00: 03-04 10:00 local = 02:00Z.
    expect(waitUntil(step, new Date("2026-03-01T07:00:00Z"), clock).toISOString()).toBe("2026-03-04T02:00:00.000Z");
    // 08:00 local: the same day's 10:00.
    expect(waitUntil({ ...step, days: 0 }, new Date("2026-03-01T00:00:00Z"), clock).toISOString()).toBe("2026-03-01T02:00:00.000Z");
    expect(waitUntil({ id: "w", type: "wait", hours: 3 }, new Date("2026-03-01T00:00:00Z"), clock).toISOString()).toBe(
      "2026-03-01T03:00:00.000Z",
    );
  });

  it("10:00 on the day clocks go forward or back is 10:00 on the wall (New York)", () => {
    const clock = programClock("America/New_York");
    const step = { id: "w", type: "wait" as const, untilLocalTime: "10:00" };
    expect(waitUntil(step, new Date("2026-03-08T05:00:00Z"), clock).toISOString()).toBe("2026-03-08T14:00:00.000Z");
    expect(waitUntil(step, new Date("2026-11-01T04:00:00Z"), clock).toISOString()).toBe("2026-11-01T15:00:00.000Z");
  });
});

describe("contact policy", () => {
  it("quiet hours across midnight, and until when a message waits", () => {
    const policy = contactPolicySchema.parse({ quietHours: { start: "21:00", end: "09:00" } });
    expect(minutesUntilQuietEnds(policy, 20 * 60 + 59)).toBe(0);
    expect(minutesUntilQuietEnds(policy, 21 * 60)).toBe(12 * 60);
    expect(minutesUntilQuietEnds(policy, 8 * 60 + 30)).toBe(30);
    expect(minutesUntilQuietEnds(policy, 9 * 60)).toBe(0);
    expect(contactPolicySchema.safeParse({ quietHours: { start: "09:00", end: "09:00" } }).success).toBe(false);
  });

  it("admits by priority, then age, within what the day and week still allow", () => {
    const policy = contactPolicySchema.parse({ maxPerDay: 2, maxPerWeek: 3 });
    const m = (id: string, priority: number, createdAt = "2026-03-01T00:00:00Z") => ({ id, priority, createdAt });
    const fresh = admitUnderCaps(policy, { today: 0, thisWeek: 0 }, [m("a", 1), m("b", 9), m("c", 5), m("d", 5, "2026-02-28T00:00:00Z")]);
    expect(fresh.admitted.map((x) => x.id)).toEqual(["b", "d"]);
    expect(fresh.refused.map((x) => x.id)).toEqual(["c", "a"]);
    expect(admitUnderCaps(policy, { today: 0, thisWeek: 2 }, [m("a", 1), m("b", 2)]).admitted.map((x) => x.id)).toEqual(["b"]);
    expect(admitUnderCaps(policy, { today: 2, thisWeek: 2 }, [m("a", 1)]).admitted).toEqual([]);
    expect(weekStartOf("2026-03-01", 0)).toBe("2026-02-23");
    expect(weekStartOf("2026-03-02", 1)).toBe("2026-03-02");
  });
});
