import { describe, expect, it } from "vitest";
import { actionsFor, campaignDefinitionSchema, controlKeyOf, withinWindow } from "../../src/domain/campaigns/definition";
import { MESSAGE_MAX_ATTEMPTS, messageRetryDelayMs, recipientFor } from "../../src/domain/campaigns/delivery";
import { escapeHtml, placeholdersOf, renderTemplate } from "../../src/domain/campaigns/template";
import {
  birthdayMonthDaysOn,
  birthdayOccurrenceKey,
  broadcastDue,
  expiringOccurrenceKey,
  matchEvent,
  type OutboxEventFacts,
} from "../../src/domain/campaigns/triggers";
import { assignVariant } from "../../src/domain/experiments";

const event = (type: string, payload: Record<string, unknown>, id = "evt_1"): OutboxEventFacts => ({
  id,
  type,
  memberId: "mem_1",
  payload,
  createdAt: "2026-11-01T00:00:00.000Z",
});
const base = { name: "c", actions: [{ type: "award_points", points: 10 }] };

describe("campaign templates", () => {
  it("substitutes member fields, renders missing ones empty, never evaluates or re-expands", () => {
    const t = "Hello {{name}}, you have {{balance}} points{{ missing }}. {{tier}}";
    expect(renderTemplate(t, { name: "Ana", balance: 120, tier: null }, "sms")).toBe("Hello Ana, you have 120 points. ");
    expect(renderTemplate("{{name}}", { name: "{{balance}}", balance: 5 }, "sms")).toBe("{{balance}}");
    expect(renderTemplate("{{constructor}}{{__proto__}}{{toString}}", {}, "sms")).toBe("");
    expect(renderTemplate("{{ a.b }} {{9bad}} {{}}", { "a.b": "x" }, "sms")).toBe("x {{9bad}} {{}}");
    expect(placeholdersOf("{{a}} {{ b }} {{a}}")).toEqual(["a", "b"]);
  });

  it("escapes values for the channel: HTML for email, control characters for text channels", () => {
    const name = `<script>alert("x")</script> & 'co'`;
    expect(renderTemplate("<p>Hi {{name}}</p>", { name }, "email")).toBe(
      "<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>",
    );
    expect(renderTemplate("Hi {{name}}", { name: "Bo\r\nCALL NOW\u001b[31m\u2028" }, "sms")).toBe("Hi Bo  CALL NOW [31m ");
    expect(renderTemplate("Hi {{name}}", { name: "<b>" }, "push")).toBe("Hi <b>");
    expect(escapeHtml("a&b")).toBe("a&amp;b");
  });
});

describe("campaign triggers", () => {
  it("matches outbox events to triggers with one occurrence key per event (signup: per member)", () => {
    expect(matchEvent({ type: "welcome" }, event("member.created", {}))).toBe("welcome");
    expect(matchEvent({ type: "welcome" }, event("points.earned", {}))).toBeNull();
    expect(matchEvent({ type: "tier_up" }, event("tier.changed", { change: "upgrade", to: "tier_gold" }))).toBe("tier_up:evt_1");
    expect(matchEvent({ type: "tier_up" }, event("tier.changed", { change: "downgrade", to: "tier_bronze" }))).toBeNull();
    expect(
      matchEvent({ type: "tier_up", toTierIds: ["tier_gold"] }, event("tier.changed", { change: "upgrade", to: "tier_silver" })),
    ).toBeNull();
    expect(
      matchEvent({ type: "tier_up", toTierIds: ["tier_gold"] }, event("tier.changed", { change: "upgrade", to: "tier_gold" }, "evt_2")),
    ).toBe("tier_up:evt_2");
    const winBack = { type: "stage_change" as const, to: ["churned" as const] };
    expect(matchEvent(winBack, event("stage.changed", { from: "at_risk", to: "churned" }))).toBe("stage:churned:evt_1");
    expect(matchEvent(winBack, event("stage.changed", { from: "active", to: "dormant" }))).toBeNull();
    expect(
      matchEvent({ type: "stage_change", to: ["dormant"], from: ["active"] }, event("stage.changed", { from: "new", to: "dormant" })),
    ).toBeNull();
    expect(matchEvent({ type: "welcome" }, { ...event("member.created", {}), memberId: null })).toBeNull();
  });

  it("birthdays: the day (Feb 29 celebrated on Feb 28 in common years), one key per year", () => {
    expect(birthdayMonthDaysOn("2026-04-12")).toEqual(["04-12"]);
    expect(birthdayMonthDaysOn("2027-02-28")).toEqual(["02-28", "02-29"]);
    expect(birthdayMonthDaysOn("2028-02-28")).toEqual(["02-28"]);
    expect(birthdayMonthDaysOn("2028-02-29")).toEqual(["02-29"]);
    expect(birthdayOccurrenceKey("2026-12-31")).toBe("birthday:2026");
    expect(expiringOccurrenceKey("2026-11-30")).toBe("expiring:2026-11-30");
    expect(broadcastDue({ type: "broadcast", sendAt: "2026-11-01T10:00:00Z" }, "2026-11-01T09:59:59.000Z")).toBe(false);
    expect(broadcastDue({ type: "broadcast", sendAt: "2026-11-01T10:00:00Z" }, "2026-11-01T10:00:00.000Z")).toBe(true);
    expect(broadcastDue({ type: "broadcast" }, "2026-11-01T10:00:00.000Z")).toBe(true);
  });
});

describe("campaign definitions", () => {
  it("validates strictly and fills defaults", () => {
    const d = campaignDefinitionSchema.parse({ ...base, trigger: { type: "birthday" } });
    expect(d).toMatchObject({ status: "active", audience: {}, window: {}, attributionDays: 30, trigger: { type: "birthday", on: "day" } });
    const bad = [
      { ...base, trigger: { type: "welcome", extra: 1 } },
      { ...base, trigger: { type: "points_expiring", daysAhead: 0 } },
      { ...base, trigger: { type: "stage_change", to: [] } },
      { ...base, trigger: { type: "welcome" }, window: { startsAt: "2026-12-01T00:00:00Z", endsAt: "2026-11-01T00:00:00Z" } },
      {
        ...base,
        trigger: { type: "welcome" },
        actions: [
          { type: "award_points", points: 1 },
          { type: "award_points", points: 2 },
        ],
      },
      { ...base, trigger: { type: "welcome" }, experiment: { variants: [{ key: "a", weight: 1 }], holdoutPct: 0 } },
      {
        ...base,
        trigger: { type: "welcome" },
        experiment: {
          variants: [
            { key: "a", weight: 1 },
            { key: "a", weight: 2 },
          ],
        },
      },
      { ...base, trigger: { type: "welcome" }, experiment: { variants: [{ key: "holdout", weight: 1 }] } },
      { ...base, trigger: { type: "welcome" }, experiment: { variants: [{ key: "a", weight: 1 }], controlKey: "b" } },
      { name: "c", trigger: { type: "welcome" }, actions: [], experiment: { variants: [{ key: "a", weight: 1 }] } },
    ];
    for (const b of bad) expect(campaignDefinitionSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });

  it("picks a group's actions and the control, and checks the window [start, end)", () => {
    const d = campaignDefinitionSchema.parse({
      ...base,
      trigger: { type: "welcome" },
      window: { startsAt: "2026-11-01T00:00:00Z", endsAt: "2026-12-01T00:00:00Z" },
      experiment: {
        variants: [
          { key: "a", weight: 1 },
          { key: "b", weight: 1, actions: [{ type: "award_points", points: 99 }] },
        ],
      },
    });
    expect(actionsFor(d, "holdout")).toEqual([]);
    expect(actionsFor(d, "a")).toEqual(base.actions);
    expect(actionsFor(d, "b")).toEqual([{ type: "award_points", points: 99 }]);
    expect(actionsFor(d, null)).toEqual(base.actions);
    expect(controlKeyOf(d.experiment!)).toBe("holdout");
    expect(controlKeyOf({ ...d.experiment!, holdoutPct: 0 })).toBe("a");
    expect(withinWindow(d, "2026-11-01T00:00:00.000Z")).toBe(true);
    expect(withinWindow(d, "2026-12-01T00:00:00.000Z")).toBe(false);
    expect(withinWindow(d, "2026-10-31T23:59:59.999Z")).toBe(false);
  });
});

describe("experiment assignment for campaigns", () => {
  it("is stable and close to the weights over 10k members, with the holdout at its percentage", () => {
    const variants = [
      { key: "control", weight: 2 },
      { key: "bonus", weight: 1 },
      { key: "double", weight: 1 },
    ];
    const counts: Record<string, number> = { holdout: 0, control: 0, bonus: 0, double: 0 };
    const first = new Map<string, string>();
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      const memberId = `mem_${i.toString(36)}`;
      const a = assignVariant({ experimentId: "exp_campaign", memberId, variants, holdoutPct: 10 });
      const key = a.variantKey ?? "holdout";
      counts[key]++;
      first.set(memberId, key);
    }
    // Binomial standard deviation at N = 10k is under 0.5 %; allow 4 sd.
    expect(counts.holdout / N).toBeCloseTo(0.1, 1);
    expect(Math.abs(counts.holdout / N - 0.1)).toBeLessThan(0.012);
    const treated = N - counts.holdout;
    expect(Math.abs(counts.control / treated - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(counts.bonus / treated - 0.25)).toBeLessThan(0.018);
    expect(Math.abs(counts.double / treated - 0.25)).toBeLessThan(0.018);
    // Stable: the same answer every time, whatever the order of the variants.
    for (const [memberId, key] of [...first].slice(0, 2000)) {
      expect(
        assignVariant({ experimentId: "exp_campaign", memberId, variants: [...variants].reverse(), holdoutPct: 10 }).variantKey ??
          "holdout",
      ).toBe(key);
    }
  });
});

describe("message delivery", () => {
  it("backs off exponentially, capped, and gives up after the last attempt", () => {
    expect([1, 2, 3, 4].map((n) => messageRetryDelayMs(n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(messageRetryDelayMs(MESSAGE_MAX_ATTEMPTS - 1)).toBe(30_000 * 2 ** (MESSAGE_MAX_ATTEMPTS - 2));
    expect(messageRetryDelayMs(MESSAGE_MAX_ATTEMPTS)).toBeNull();
    expect(messageRetryDelayMs(0)).toBeNull();
  });

  it("sends each channel only the address it needs", () => {
    const m = { id: "mem_1", externalId: "c-1", email: "a@x.io", phone: "+1555" };
    expect(recipientFor("email", m)).toEqual({ memberId: "mem_1", externalId: "c-1", email: "a@x.io" });
    expect(recipientFor("sms", m)).toEqual({ memberId: "mem_1", externalId: "c-1", phone: "+1555" });
    expect(recipientFor("push", m)).toEqual({ memberId: "mem_1", externalId: "c-1" });
  });
});
