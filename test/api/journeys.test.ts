import { describe, expect, it } from "vitest";
import { localDate, localMinuteOfDay, startOfLocalDay } from "../../src/domain/local-time";
import { advanceJourneys } from "../../src/services/campaigns/journeys";
import { deliverDueMessages } from "../../src/services/campaigns/messages";
import { consumeOutboxEvents, runCalendarTriggers, runSegmentEntries } from "../../src/services/campaigns/triggers";
import { accrue, call, db, ledgerSum, newMember, newProgram, partnerSignature, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const MINUTE = 60_000;
const TAIPEI = "Asia/Taipei";

const bucketUrl = (bucket: string) => `http://receiver.test/__test/receiver/${bucket}`;

/**
 * The minute cron's journey work for this test's program, at `at`: events become entries, then
 * due runs advance and due messages are delivered — scoped to the program, so time travel
 * touches nothing else. The outbox consumer serves every program, so it never runs in the future.
 */
async function tick(p: TestProgram, at: Date) {
  await consumeOutboxEvents(testEnv, new Date(Math.min(at.getTime(), Date.now())), 500);
  await runSegmentEntries(testEnv, at, 500, { programId: p.programId });
  const advanced = await advanceJourneys(testEnv, at, 500, { programId: p.programId });
  const delivered = await deliverDueMessages(testEnv, at, 500, { programId: p.programId });
  return { advanced, delivered };
}

async function taipeiProgram(extra: Record<string, unknown> = {}) {
  const p = await newProgram({ expiryDays: null, pointCostPer1000: 1000, ...extra });
  expect((await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: TAIPEI } })).status).toBe(200);
  return p;
}

async function setChannel(p: TestProgram, channel = "email") {
  const res = await call("PUT", `/v1/channels/${channel}`, { key: p.keys.admin, body: { url: bucketUrl(uniqueKey(channel)) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.secret as string;
}

async function createCampaign(p: TestProgram, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/campaigns", { key: p.keys.admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; experiment: { id: string } | null };
}

async function messagesOf(p: TestProgram, campaignId: string) {
  const res = await call("GET", `/v1/campaigns/${campaignId}/messages?limit=500`, { key: p.keys.admin });
  expect(res.status).toBe(200);
  return res.body.data as Array<{
    id: string;
    memberId: string;
    body: string;
    status: string;
    stepId: string | null;
    journeyRunId: string | null;
    nextAttemptAt: string | null;
  }>;
}

async function runsOf(campaignId: string) {
  const r = await db().$client.execute({
    sql: "SELECT member_id, status, step_id, next_run_at, exit_reason, variant_key FROM journey_runs WHERE campaign_id = ? ORDER BY member_id",
    args: [campaignId],
  });
  return r.rows.map((row) => ({
    memberId: String(row.member_id),
    status: String(row.status),
    stepId: row.step_id === null ? null : String(row.step_id),
    nextRunAt: row.next_run_at === null ? null : String(row.next_run_at),
    exitReason: row.exit_reason === null ? null : String(row.exit_reason),
    variantKey: row.variant_key === null ? null : String(row.variant_key),
  }));
}

async function engagement(p: TestProgram, campaignId: string) {
  const res = await call("GET", `/v1/campaigns/${campaignId}/engagement`, { key: p.keys.admin });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Provider events signed with the channel's secret, as a provider's own code would (standardwebhooks). */
async function postEvents(p: TestProgram, secret: string, events: unknown[], opts: { key?: string; channel?: string } = {}) {
  const raw = JSON.stringify({ events });
  return call("POST", `/v1/channels/${opts.channel ?? "email"}/events`, {
    key: opts.key ?? p.keys.admin,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(secret, raw) },
  });
}

/** The instant local `date` shows `hhmm` in Taipei. */
const taipeiAt = (date: string, hhmm: string) =>
  new Date(startOfLocalDay(date, TAIPEI) + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * MINUTE);

const welcomeJourney = {
  name: "Onboarding",
  trigger: { type: "welcome" },
  journey: {
    steps: [
      { id: "hello", type: "send", channel: "email", template: "Hi {{name}}", next: "pause" },
      { id: "pause", type: "wait", days: 2, untilLocalTime: "10:00", next: "bought" },
      { id: "bought", type: "branch", condition: { type: "purchased" }, yes: "done", no: "nudge_points" },
      { id: "nudge_points", type: "award", points: 50, next: "nudge" },
      { id: "nudge", type: "send", channel: "email", template: "{{name}}, 50 points for you: {{balance}} now" },
      { id: "done", type: "exit" },
    ],
  },
};

describe("journeys: definitions", () => {
  it("rejects cycles, unknown steps and bad variant entries with a 400 that names them", async () => {
    const p = await newProgram();
    const cyclic = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: {
        name: "Loop",
        trigger: { type: "welcome" },
        journey: {
          steps: [
            { id: "a", type: "send", channel: "email", template: "x", next: "b" },
            { id: "b", type: "wait", days: 1, next: "c" },
            { id: "c", type: "branch", condition: { type: "purchased" }, yes: "a" },
          ],
        },
      },
    });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error.code).toBe("invalid_request");
    expect(cyclic.body.error.message).toContain("cycle: a → b → c → a");

    const dangling = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: {
        name: "Dangling",
        trigger: { type: "welcome" },
        journey: { steps: [{ id: "a", type: "send", channel: "email", template: "x", next: "nowhere" }] },
      },
    });
    expect(dangling.status).toBe(400);
    expect(dangling.body.error.message).toContain("step a refers to unknown step nowhere");

    const badVariant = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: {
        ...welcomeJourney,
        experiment: { variants: [{ key: "a", weight: 1, entryStepId: "ghost" }], holdoutPct: 10 },
      },
    });
    expect(badVariant.status).toBe(400);
    expect(badVariant.body.error.message).toContain("variant a starts at unknown step ghost");

    const mixed = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: { ...welcomeJourney, actions: [{ type: "award_points", points: 1 }] },
    });
    expect(mixed.status).toBe(400);

    const emptyWait = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: { name: "W", trigger: { type: "welcome" }, journey: { steps: [{ id: "w", type: "wait" }] } },
    });
    expect(emptyWait.status).toBe(400);
    // Nothing was created by any of them.
    expect((await call("GET", "/v1/campaigns", { key: p.keys.admin })).body.data).toHaveLength(0);
  });

  it("storefront and partner keys can create neither journeys nor campaigns from templates", async () => {
    const p = await newProgram();
    for (const key of [p.keys.storefront, p.keys.partner]) {
      expect((await call("POST", "/v1/campaigns", { key, body: welcomeJourney })).status).toBe(403);
      expect((await call("POST", "/v1/journey-templates/onboarding/campaigns", { key, body: {} })).status).toBe(403);
      expect((await call("GET", "/v1/journey-templates", { key })).status).toBe(403);
      expect((await call("PUT", "/v1/contact-policy", { key, body: { maxPerDay: 100 } })).status).toBe(403);
    }
    expect((await call("GET", "/v1/campaigns", { key: p.keys.admin })).body.data).toHaveLength(0);
  });
});

describe("journeys: members advance step by step on the minute cron", () => {
  it("send, wait until 10:00 local two days later, branch on purchase, award through the ledger, exit; idempotent on replay", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const campaign = await createCampaign(p, welcomeJourney);
    const buyer = await newMember(p, { name: "Ana", email: "ana@example.com", consent: { email: true } });
    const idle = await newMember(p, { name: "Bo", email: "bo@example.com", consent: { email: true } });

    const t0 = new Date();
    const first = await tick(p, t0);
    expect(first.advanced).toMatchObject({ runs: 2, sent: 2, waiting: 2 });
    let msgs = await messagesOf(p, campaign.id);
    expect(msgs.map((m) => [m.memberId, m.stepId, m.status, m.body]).sort()).toEqual(
      [
        [buyer.id, "hello", "delivered", "Hi Ana"],
        [idle.id, "hello", "delivered", "Hi Bo"],
      ].sort(),
    );
    // Due at 10:00 Taipei on the first day that is at least two days later.
    const due = taipeiAt(localDate(t0.getTime() + 2 * DAY, TAIPEI), "10:00");
    const expectedDue = due.getTime() < t0.getTime() + 2 * DAY ? taipeiAt(localDate(t0.getTime() + 3 * DAY, TAIPEI), "10:00") : due;
    const runs = await runsOf(campaign.id);
    expect(runs.map((r) => [r.status, r.stepId, r.nextRunAt])).toEqual([
      ["active", "bought", expectedDue.toISOString()],
      ["active", "bought", expectedDue.toISOString()],
    ]);

    // A minute before the wait ends: nothing moves.
    expect((await tick(p, new Date(expectedDue.getTime() - MINUTE))).advanced.runs).toBe(0);
    expect((await accrue(p, buyer.id, 5000)).status).toBe(201);

    await tick(p, expectedDue);
    expect((await runsOf(campaign.id)).map((r) => [r.memberId, r.status, r.exitReason]).sort()).toEqual(
      [
        [buyer.id, "completed", "exit_step"],
        [idle.id, "completed", null],
      ].sort(),
    );
    msgs = await messagesOf(p, campaign.id);
    expect(msgs.filter((m) => m.memberId === buyer.id).map((m) => m.stepId)).toEqual(["hello"]);
    const nudge = msgs.filter((m) => m.memberId === idle.id && m.stepId === "nudge");
    expect(nudge).toHaveLength(1);
    expect(nudge[0].body).toBe("Bo, 50 points for you: 50 now");
    expect((await ledgerSum(idle.id)).sum).toBe(50);

    // Replaying the steps (as if the run had not been saved) does nothing twice: the step rows and the award's key guard it.
    await db().$client.execute({
      sql: "UPDATE journey_runs SET status = 'active', step_id = 'bought', next_run_at = ? WHERE campaign_id = ? AND member_id = ?",
      args: [expectedDue.toISOString(), campaign.id, idle.id],
    });
    await tick(p, new Date(expectedDue.getTime() + MINUTE));
    expect((await ledgerSum(idle.id)).sum).toBe(50);
    expect((await messagesOf(p, campaign.id)).filter((m) => m.memberId === idle.id)).toHaveLength(2);

    const e = await engagement(p, campaign.id);
    expect(e.journey.runs).toMatchObject({ entered: 2, active: 0, completed: 2, exited: 0, holdout: 0 });
    expect(
      e.journey.steps.map((s: { stepId: string; reached: number; outcomes: Record<string, number> }) => [s.stepId, s.reached, s.outcomes]),
    ).toEqual([
      ["hello", 2, { sent: 2 }],
      ["pause", 2, { waited: 2 }],
      ["bought", 2, { yes: 1, no: 1 }],
      ["nudge_points", 1, { awarded: 1 }],
      ["nudge", 1, { sent: 1 }],
      ["done", 1, { exited: 1 }],
    ]);
    expect(e.messages).toMatchObject({ messages: 3, sent: 3, converted: 1 });
  });

  it("exit conditions end a member's run: a purchase and a stage change since entry", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const campaign = await createCampaign(p, {
      name: "Reminder",
      trigger: { type: "welcome" },
      journey: {
        exitOn: ["purchase", "stage_change"],
        steps: [
          { id: "later", type: "wait", days: 1, next: "remind" },
          { id: "remind", type: "send", channel: "email", template: "Come back" },
        ],
      },
    });
    const buyer = await newMember(p, { consent: { email: true } });
    const staged = await newMember(p, { consent: { email: true } });
    const stays = await newMember(p, { consent: { email: true } });
    const t0 = new Date();
    await tick(p, t0);
    await accrue(p, buyer.id, 1000);
    await db().$client.execute({
      sql: "UPDATE members SET stage = 'active', stage_since = ? WHERE id = ?",
      args: [new Date(Date.now() + 1000).toISOString(), staged.id],
    });
    await tick(p, new Date(t0.getTime() + DAY + MINUTE));
    const runs = Object.fromEntries((await runsOf(campaign.id)).map((r) => [r.memberId, [r.status, r.exitReason]]));
    expect(runs).toEqual({
      [buyer.id]: ["exited", "purchase"],
      [staged.id]: ["exited", "stage_change"],
      [stays.id]: ["completed", null],
    });
    expect((await messagesOf(p, campaign.id)).map((m) => m.memberId)).toEqual([stays.id]);
  });

  it("pausing a journey holds its runs; ending it takes no one new but lets runs under way finish", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const campaign = await createCampaign(p, {
      name: "Held",
      trigger: { type: "welcome" },
      journey: {
        steps: [
          { id: "w", type: "wait", hours: 1, next: "s" },
          { id: "s", type: "send", channel: "email", template: "after an hour" },
        ],
      },
    });
    const m = await newMember(p, { consent: { email: true } });
    const t0 = new Date();
    await tick(p, t0);
    const patch = (status: string) => call("PATCH", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin, body: { status } });
    expect((await patch("paused")).status).toBe(200);
    await tick(p, new Date(t0.getTime() + 61 * MINUTE));
    expect((await runsOf(campaign.id)).map((r) => [r.status, r.stepId])).toEqual([["active", "s"]]);
    expect(await messagesOf(p, campaign.id)).toEqual([]);
    expect((await patch("ended")).status).toBe(200);
    const late = await newMember(p, { consent: { email: true } });
    await tick(p, new Date(t0.getTime() + 2 * 60 * MINUTE));
    expect((await runsOf(campaign.id)).map((r) => [r.memberId, r.status])).toEqual([[m.id, "completed"]]);
    expect((await messagesOf(p, campaign.id)).map((x) => x.memberId)).toEqual([m.id]);
    expect(late.id).not.toBe(m.id);
  });

  it("A/B variants start at their own steps and the holdout gets no run (existing experiments at entry)", async () => {
    const p = await taipeiProgram();
    const secret = await setChannel(p);
    const campaign = await createCampaign(p, {
      name: "AB journey",
      trigger: { type: "welcome" },
      journey: {
        steps: [
          { id: "short", type: "send", channel: "email", template: "A" },
          { id: "long", type: "send", channel: "email", template: "B" },
        ],
      },
      experiment: {
        variants: [
          { key: "a", weight: 1 },
          { key: "b", weight: 1, entryStepId: "long" },
        ],
        holdoutPct: 30,
        conversion: { type: "clicked", windowDays: 7 },
      },
    });
    const members = [];
    for (let i = 0; i < 24; i++) members.push(await newMember(p, { consent: { email: true } }));
    await tick(p, new Date());
    const occ = (await call("GET", `/v1/campaigns/${campaign.id}/occurrences?limit=500`, { key: p.keys.admin })).body;
    const groupOf = new Map<string, string>(occ.data.map((o: { memberId: string; variantKey: string }) => [o.memberId, o.variantKey]));
    expect(groupOf.size).toBe(24);
    const runs = await runsOf(campaign.id);
    const msgs = await messagesOf(p, campaign.id);
    const held = [...groupOf].filter(([, g]) => g === "holdout").map(([m]) => m);
    expect(held.length).toBeGreaterThan(0);
    expect(runs).toHaveLength(24 - held.length);
    for (const r of runs) expect(r.variantKey).toBe(groupOf.get(r.memberId));
    for (const m of msgs) expect(m.body).toBe(groupOf.get(m.memberId) === "a" ? "A" : "B");
    expect(msgs.filter((m) => held.includes(m.memberId))).toHaveLength(0);
    expect((await engagement(p, campaign.id)).journey.runs.holdout).toBe(held.length);

    // The experiment's metric is clicks: every other B message is clicked, no A message.
    const clickedB = msgs.filter((m) => groupOf.get(m.memberId) === "b").filter((_, i) => i % 2 === 0);
    expect(
      (
        await postEvents(
          p,
          secret,
          clickedB.map((m, i) => ({ id: `c${i}`, messageId: m.id, type: "clicked" })),
        )
      ).status,
    ).toBe(200);
    const results = await call("GET", `/v1/experiments/${campaign.experiment!.id}/results`, { key: p.keys.admin });
    expect(results.status, JSON.stringify(results.body)).toBe(200);
    const byKey = Object.fromEntries(results.body.groups.map((g: { key: string; exposures: number; conversions: number }) => [g.key, g]));
    const count = (g: string) => [...groupOf.values()].filter((x) => x === g).length;
    expect(byKey.b).toMatchObject({ exposures: count("b"), conversions: clickedB.length });
    expect(byKey.a).toMatchObject({ exposures: count("a"), conversions: 0 });
    expect(byKey.holdout).toMatchObject({ exposures: held.length, conversions: 0 });
  });
});

describe("provider events: signed, stored per message, consent and suppression at once", () => {
  it("records delivered/opened/clicked once each, feeds KPIs and branches; refuses forged signatures and other keys", async () => {
    const p = await taipeiProgram();
    const secret = await setChannel(p);
    const campaign = await createCampaign(p, {
      name: "Opened?",
      trigger: { type: "welcome" },
      journey: {
        steps: [
          { id: "hello", type: "send", channel: "email", template: "Hello", next: "day" },
          { id: "day", type: "wait", days: 1, next: "opened" },
          { id: "opened", type: "branch", condition: { type: "opened", stepId: "hello" }, yes: "thanks", no: "again" },
          { id: "thanks", type: "send", channel: "email", template: "Thanks for reading" },
          { id: "again", type: "send", channel: "email", template: "In case you missed it" },
        ],
      },
    });
    const reader = await newMember(p, { consent: { email: true } });
    const skimmer = await newMember(p, { consent: { email: true } });
    const t0 = new Date();
    await tick(p, t0);
    const first = await messagesOf(p, campaign.id);
    const msgOf = (memberId: string) => first.find((m) => m.memberId === memberId)!.id;

    const events = [
      { id: "e1", messageId: msgOf(reader.id), type: "delivered" },
      { id: "e2", messageId: msgOf(reader.id), type: "opened" },
      { id: "e3", messageId: msgOf(reader.id), type: "clicked" },
      { id: "e4", messageId: msgOf(skimmer.id), type: "delivered" },
      { id: "e5", messageId: "msg_unknown", type: "opened" },
    ];
    const ok = await postEvents(p, secret, events);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.results.map((r: { status: string }) => r.status)).toEqual([
      "recorded",
      "recorded",
      "recorded",
      "recorded",
      "unknown_message",
    ]);
    // A resend is recorded once.
    expect((await postEvents(p, secret, events.slice(0, 2))).body.results.map((r: { status: string }) => r.status)).toEqual([
      "duplicate",
      "duplicate",
    ]);

    // Forged: signed with another secret, or the body changed after signing.
    const forged = await postEvents(p, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", [
      { id: "f1", messageId: msgOf(skimmer.id), type: "clicked" },
    ]);
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe("invalid_signature");
    const raw = JSON.stringify({ events: [{ id: "f2", messageId: msgOf(skimmer.id), type: "opened" }] });
    const tampered = await call("POST", "/v1/channels/email/events", {
      key: p.keys.admin,
      rawBody: raw.replace("opened", "clicked"),
      headers: { "content-type": "application/json", ...partnerSignature(secret, raw) },
    });
    expect(tampered.status).toBe(401);
    const unsigned = await call("POST", "/v1/channels/email/events", { key: p.keys.admin, body: { events: [] } });
    expect(unsigned.status).toBe(401);
    // Storefront and partner keys are refused even with a valid signature.
    for (const key of [p.keys.storefront, p.keys.partner])
      expect((await postEvents(p, secret, [{ id: "k1", messageId: msgOf(skimmer.id), type: "clicked" }], { key })).status).toBe(403);
    // Another program's admin key with this program's secret: it has no channel secret, then one that does not match.
    const other = await newProgram();
    expect((await postEvents(other, secret, [{ id: "o1", messageId: msgOf(skimmer.id), type: "clicked" }])).status).toBe(401);
    const otherSecret = await setChannel(other);
    expect((await postEvents(other, secret, [{ id: "o2", messageId: msgOf(skimmer.id), type: "clicked" }])).status).toBe(401);
    // Signed right for the other program, the message is not one of its own.
    expect(
      (await postEvents(other, otherSecret, [{ id: "o3", messageId: msgOf(skimmer.id), type: "clicked" }])).body.results[0].status,
    ).toBe("unknown_message");

    await tick(p, new Date(t0.getTime() + DAY + MINUTE));
    const bodies = Object.fromEntries(
      (await messagesOf(p, campaign.id)).filter((m) => m.stepId !== "hello").map((m) => [m.memberId, m.body]),
    );
    expect(bodies).toEqual({ [reader.id]: "Thanks for reading", [skimmer.id]: "In case you missed it" });

    const e = await engagement(p, campaign.id);
    const hello = e.journey.steps.find((s: { stepId: string }) => s.stepId === "hello");
    expect(hello.messages).toMatchObject({ sent: 2, delivered: 2, opened: 1, clicked: 1, deliveryRate: 1, openRate: 0.5, clickRate: 0.5 });
    expect(e.messages).toMatchObject({ messages: 4, sent: 4, delivered: 2, opened: 1, clicked: 1, unsubscribed: 0 });
  });

  it("an unsubscribe withdraws consent at once and ends unsubscribe-exit runs; a bounce stops the channel", async () => {
    const p = await taipeiProgram();
    const secret = await setChannel(p);
    const campaign = await createCampaign(p, {
      name: "Series",
      trigger: { type: "welcome" },
      journey: {
        exitOn: ["unsubscribe"],
        steps: [
          { id: "one", type: "send", channel: "email", template: "1", next: "w" },
          { id: "w", type: "wait", hours: 1, next: "two" },
          { id: "two", type: "send", channel: "email", template: "2" },
        ],
      },
    });
    const leaver = await newMember(p, { consent: { email: true, sms: true } });
    const bouncer = await newMember(p, { consent: { email: true } });
    const t0 = new Date();
    await tick(p, t0);
    const first = await messagesOf(p, campaign.id);
    const idOf = (m: string) => first.find((x) => x.memberId === m)!.id;
    const res = await postEvents(p, secret, [
      { id: "u1", messageId: idOf(leaver.id), type: "unsubscribed" },
      { id: "b1", messageId: idOf(bouncer.id), type: "bounced" },
    ]);
    expect(res.status).toBe(200);
    const member = await call("GET", `/v1/members/${leaver.id}`, { key: p.keys.admin });
    expect(member.body.consent).toMatchObject({ email: false, sms: true });

    await tick(p, new Date(t0.getTime() + 61 * MINUTE));
    const runs = Object.fromEntries((await runsOf(campaign.id)).map((r) => [r.memberId, [r.status, r.exitReason]]));
    expect(runs[leaver.id]).toEqual(["exited", "unsubscribe"]);
    expect(runs[bouncer.id]).toEqual(["completed", null]);
    const second = (await messagesOf(p, campaign.id)).filter((m) => m.stepId === "two");
    expect(second.map((m) => [m.memberId, m.status])).toEqual([[bouncer.id, "skipped_suppressed"]]);
    const e = await engagement(p, campaign.id);
    expect(e.messages).toMatchObject({ sent: 2, bounced: 1, unsubscribed: 1, unsubscribeRate: 0.5 });
  });
});

describe("contact policy: caps across campaigns, priorities, quiet hours", () => {
  it("three campaigns compete for two messages a day: each member gets exactly the two highest priorities", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const put = await call("PUT", "/v1/contact-policy", { key: p.keys.admin, body: { maxPerDay: 2, maxPerWeek: 3 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await call("GET", "/v1/contact-policy", { key: p.keys.admin })).body).toEqual({
      maxPerDay: 2,
      maxPerWeek: 3,
      quietHours: null,
    });
    const low = await createCampaign(p, {
      name: "Low",
      priority: 1,
      trigger: { type: "welcome" },
      actions: [{ type: "send_message", channel: "email", template: "low" }],
    });
    const high = await createCampaign(p, {
      name: "High",
      priority: 9,
      trigger: { type: "welcome" },
      journey: { steps: [{ id: "s", type: "send", channel: "email", template: "high" }] },
    });
    const mid = await createCampaign(p, {
      name: "Mid",
      priority: 5,
      trigger: { type: "welcome" },
      actions: [{ type: "send_message", channel: "email", template: "mid" }],
    });
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await newMember(p, { consent: { email: true } }));
    const t0 = new Date();
    await tick(p, t0);
    const statusOf = async (campaignId: string) => Object.fromEntries((await messagesOf(p, campaignId)).map((m) => [m.memberId, m.status]));
    const [h, m, l] = [await statusOf(high.id), await statusOf(mid.id), await statusOf(low.id)];
    for (const member of members) {
      expect([h[member.id], m[member.id], l[member.id]]).toEqual(["delivered", "delivered", "skipped_contact_policy"]);
    }
    const delivered = await db().$client.execute({
      sql: "SELECT member_id, COUNT(*) AS n FROM messages WHERE program_id = ? AND status = 'delivered' GROUP BY member_id",
      args: [p.programId],
    });
    expect(delivered.rows.map((r) => Number(r.n))).toEqual([2, 2, 2]);

    // The next day the weekly cap (3) leaves room for one more per member, whatever the daily cap.
    const broadcastSeg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: { name: "all", rule: { field: "orders", op: "gte", value: 0 } },
    });
    expect(broadcastSeg.status).toBe(201);
    await call("POST", `/v1/segments/${broadcastSeg.body.id}/recompute`, { key: p.keys.admin });
    const tomorrow = taipeiAt(localDate(t0.getTime() + DAY, TAIPEI), "12:00");
    // Weeks start on Monday (local).
    const sameWeek = new Date(`${localDate(tomorrow, TAIPEI)}T00:00:00Z`).getUTCDay() !== 1;
    const extra = [];
    for (const name of ["A", "B"])
      extra.push(
        await createCampaign(p, {
          name,
          trigger: { type: "segment_entry", segmentId: broadcastSeg.body.id },
          journey: { steps: [{ id: "s", type: "send", channel: "email", template: name }] },
        }),
      );
    // The members entered the segment before these campaigns existed: re-enter them now.
    await db().$client.execute({
      sql: "UPDATE segment_members SET added_at = ? WHERE segment_id = ?",
      args: [new Date(Date.now() + 1000).toISOString(), broadcastSeg.body.id],
    });
    await tick(p, tomorrow);
    const counts = await db().$client.execute({
      sql: "SELECT member_id, COUNT(*) AS n FROM messages WHERE program_id = ? AND status = 'delivered' GROUP BY member_id",
      args: [p.programId],
    });
    // In the same local week: 3 each (the week cap); a new week started: 4 each (two a day).
    expect(counts.rows.map((r) => Number(r.n))).toEqual(sameWeek ? [3, 3, 3] : [4, 4, 4]);
  });

  it("quiet hours: a message due in them waits for their end on the program's clock, then goes", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const now = new Date();
    const minute = localMinuteOfDay(now, TAIPEI);
    const hhmm = (m: number) =>
      `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, "0")}:${String((m + 1440) % 60).padStart(2, "0")}`;
    const quietHours = { start: hhmm(minute - 60), end: hhmm(minute + 90) };
    expect((await call("PUT", "/v1/contact-policy", { key: p.keys.admin, body: { quietHours } })).status).toBe(200);
    const campaign = await createCampaign(p, {
      name: "Hello",
      trigger: { type: "welcome" },
      actions: [{ type: "send_message", channel: "email", template: "hi" }],
    });
    const m = await newMember(p, { consent: { email: true } });
    await tick(p, now);
    const [waiting] = await messagesOf(p, campaign.id);
    expect(waiting).toMatchObject({ memberId: m.id, status: "pending" });
    const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE + 90 * MINUTE);
    expect(waiting.nextAttemptAt).toBe(end.toISOString());
    await tick(p, new Date(end.getTime() - MINUTE));
    expect((await messagesOf(p, campaign.id))[0].status).toBe("pending");
    await tick(p, end);
    expect((await messagesOf(p, campaign.id))[0].status).toBe("delivered");
  });
});

describe("ready-made journeys", () => {
  it("lists the templates; 'NT$X more to Gold' enters members close to the next tier and tells them how much is missing", async () => {
    const p = await taipeiProgram({ currency: "TWD" });
    await setChannel(p, "line");
    const list = await call("GET", "/v1/journey-templates", { key: p.keys.admin });
    expect(list.status).toBe(200);
    expect(list.body.data.map((t: { key: string }) => t.key)).toEqual([
      "onboarding",
      "post_purchase",
      "tier_nudge",
      "downgrade_warning",
      "dormant_wakeup",
      "winback_ladder",
      "anniversary",
    ]);
    for (const [i, t] of [
      { name: "Silver", rank: 0, qualification: { windowDays: 365 } },
      { name: "Gold", rank: 1, qualification: { windowDays: 365, minSpend: 1_000_000 } },
    ].entries())
      expect((await call("POST", "/v1/tiers", { key: p.keys.admin, body: t })).status, String(i)).toBe(201);
    const created = await call("POST", "/v1/journey-templates/tier_nudge/campaigns", {
      key: p.keys.admin,
      body: { params: { channel: "line", withinMinor: 100_000 }, overrides: { name: "差一點升金卡" } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: "差一點升金卡", trigger: { type: "close_to_next_tier", withinMinor: 100_000 } });
    expect((await call("POST", "/v1/journey-templates/nope/campaigns", { key: p.keys.admin, body: {} })).status).toBe(404);
    expect(
      (await call("POST", "/v1/journey-templates/tier_nudge/campaigns", { key: p.keys.admin, body: { params: { channel: "fax" } } }))
        .status,
    ).toBe(400);

    const close = await newMember(p, { name: "Ana", consent: { line: true } });
    const far = await newMember(p, { consent: { line: true } });
    expect((await accrue(p, close.id, 950_000, { currency: "TWD" })).status).toBe(201);
    expect((await accrue(p, far.id, 100_000, { currency: "TWD" })).status).toBe(201);
    const now = new Date();
    await runCalendarTriggers(testEnv, now, 500, { programId: p.programId });
    await tick(p, now);
    const runs = await runsOf(created.body.id);
    expect(runs.map((r) => r.memberId)).toEqual([close.id]);
    const tenAm = taipeiAt(localDate(now, TAIPEI), "10:00");
    const due = tenAm.getTime() >= now.getTime() ? tenAm : taipeiAt(localDate(now.getTime() + DAY, TAIPEI), "10:00");
    expect(runs[0]).toMatchObject({ stepId: "nudge", nextRunAt: due.toISOString() });
    await tick(p, due);
    const [msg] = await messagesOf(p, created.body.id);
    expect(msg.body).toBe("Ana，再消費 NT$500 就能升級 Gold，享更多會員禮遇！");
  });
});

describe("journey triggers", () => {
  it("post-purchase (first_purchase): one run per member from the first order; the next purchase ends it", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const created = await call("POST", "/v1/journey-templates/post_purchase/campaigns", { key: p.keys.admin, body: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const repeat = await newMember(p, { name: "Cy", consent: { email: true } });
    const once = await newMember(p, { name: "Di", consent: { email: true } });
    await accrue(p, repeat.id, 1000);
    await accrue(p, once.id, 1000);
    const t0 = new Date();
    await tick(p, t0);
    await accrue(p, repeat.id, 2000);
    await tick(p, new Date(t0.getTime() + MINUTE));
    const runs = await runsOf(created.body.id);
    expect(runs).toHaveLength(2);
    const thanks = await messagesOf(p, created.body.id);
    expect(thanks.map((m) => m.stepId)).toEqual(["thanks", "thanks"]);
    // Day 3 at 10:00 (or later): the member who bought again has left; the other gets the care message.
    await tick(p, new Date(t0.getTime() + 4 * DAY));
    const after = Object.fromEntries((await runsOf(created.body.id)).map((r) => [r.memberId, [r.status, r.exitReason, r.stepId]]));
    expect(after[repeat.id]).toEqual(["exited", "purchase", null]);
    expect(after[once.id]).toEqual(["active", null, "reminder"]);
    expect((await messagesOf(p, created.body.id)).filter((m) => m.stepId === "care").map((m) => m.memberId)).toEqual([once.id]);
  });

  it("anniversary of joining: points and a greeting at 10:00 on the day, once a year", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const created = await call("POST", "/v1/journey-templates/anniversary/campaigns", {
      key: p.keys.admin,
      body: { params: { points: 88 } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const now = new Date();
    const today = localDate(now, TAIPEI);
    const veteran = await newMember(p, { name: "Ed", consent: { email: true } });
    const newcomer = await newMember(p, { consent: { email: true } });
    // Joined two years ago today, at noon Taipei (04:00 UTC).
    await db().$client.execute({
      sql: "UPDATE members SET created_at = ? WHERE id = ?",
      args: [`${Number(today.slice(0, 4)) - 2}${today.slice(4)}T04:00:00.000Z`, veteran.id],
    });
    await runCalendarTriggers(testEnv, now, 500, { programId: p.programId });
    await runCalendarTriggers(testEnv, new Date(now.getTime() + MINUTE), 500, { programId: p.programId });
    expect((await runsOf(created.body.id)).map((r) => r.memberId)).toEqual([veteran.id]);
    const tenAm = taipeiAt(today, "10:00");
    const due = tenAm.getTime() >= now.getTime() ? tenAm : taipeiAt(localDate(now.getTime() + DAY, TAIPEI), "10:00");
    await tick(p, now);
    await tick(p, due);
    expect((await ledgerSum(veteran.id)).sum).toBe(88);
    expect((await ledgerSum(newcomer.id)).sum).toBe(0);
    const [greeting] = await messagesOf(p, created.body.id);
    expect(greeting.body).toBe("Ed，入會 2 週年快樂！送您 88 點，感謝一路相伴。");
  });

  it("downgrade warning (tier_at_risk): members whose tier ends within N days and whose figures would not keep it", async () => {
    const p = await taipeiProgram({ currency: "TWD" });
    await setChannel(p);
    const tierIds: string[] = [];
    for (const t of [
      { name: "Silver", rank: 0, qualification: { windowDays: 365 } },
      { name: "Gold", rank: 1, qualification: { windowDays: 365, minSpend: 1_000_000 } },
    ]) {
      const res = await call("POST", "/v1/tiers", { key: p.keys.admin, body: t });
      expect(res.status).toBe(201);
      tierIds.push(res.body.id);
    }
    const created = await call("POST", "/v1/journey-templates/downgrade_warning/campaigns", {
      key: p.keys.admin,
      body: { params: { daysAhead: 30 } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const now = new Date();
    const atRisk = await newMember(p, { name: "Fay", consent: { email: true } });
    const keeps = await newMember(p, { consent: { email: true } });
    const later = await newMember(p, { consent: { email: true } });
    await accrue(p, atRisk.id, 400_000, { currency: "TWD" });
    await accrue(p, keeps.id, 1_200_000, { currency: "TWD" });
    await accrue(p, later.id, 400_000, { currency: "TWD" });
    const securedUntil = new Date(now.getTime() + 10 * DAY).toISOString();
    for (const [id, until] of [
      [atRisk.id, securedUntil],
      [keeps.id, securedUntil],
      [later.id, new Date(now.getTime() + 60 * DAY).toISOString()],
    ])
      await db().$client.execute({
        sql: "UPDATE members SET tier_id = ?, tier_secured_until = ? WHERE id = ?",
        args: [tierIds[1], until, id],
      });
    await runCalendarTriggers(testEnv, now, 500, { programId: p.programId });
    expect((await runsOf(created.body.id)).map((r) => r.memberId)).toEqual([atRisk.id]);
    const tenAm = taipeiAt(localDate(now, TAIPEI), "10:00");
    const due = tenAm.getTime() >= now.getTime() ? tenAm : taipeiAt(localDate(now.getTime() + DAY, TAIPEI), "10:00");
    await tick(p, now);
    await tick(p, due);
    const [warning] = await messagesOf(p, created.body.id);
    expect(warning.body).toBe(`Fay，您的 Gold 會籍保留至 ${localDate(securedUntil, TAIPEI)}，再消費 NT$6000 即可續享 Gold 禮遇。`);
  });

  it("segment entry: members added to the segment after the campaign exists; another program's segment is refused", async () => {
    const p = await taipeiProgram();
    await setChannel(p);
    const seg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: { name: "vip", rule: { field: "tags", op: "contains", value: "vip" } },
    });
    expect(seg.status).toBe(201);
    const before = await newMember(p, { tags: ["vip"], consent: { email: true } });
    await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin });
    const campaign = await createCampaign(p, {
      name: "VIP welcome",
      trigger: { type: "segment_entry", segmentId: seg.body.id },
      journey: { steps: [{ id: "hi", type: "send", channel: "email", template: "Welcome to VIP" }] },
    });
    const after = await newMember(p, { tags: ["vip"], consent: { email: true } });
    await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin });
    await tick(p, new Date());
    await tick(p, new Date(Date.now() + MINUTE));
    expect((await messagesOf(p, campaign.id)).map((m) => m.memberId)).toEqual([after.id]);
    expect(before.id).not.toBe(after.id);

    const other = await newProgram();
    const foreign = await call("POST", "/v1/campaigns", {
      key: other.keys.admin,
      body: { name: "x", trigger: { type: "segment_entry", segmentId: seg.body.id }, journey: { steps: [{ id: "a", type: "exit" }] } },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toContain("is not a segment of this program");
  });

  it("configuration as code carries a journey to another program by names", async () => {
    const p = await taipeiProgram();
    const seg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: { name: "vip", rule: { field: "tags", op: "contains", value: "vip" } },
    });
    const reward = await call("POST", "/v1/rewards", {
      key: p.keys.admin,
      body: { name: "Free coffee", kind: "coupon_percent", value: 10, pointsCost: 100, costMinor: 50 },
    });
    expect(reward.status, JSON.stringify(reward.body)).toBe(201);
    await createCampaign(p, {
      name: "VIP journey",
      trigger: { type: "segment_entry", segmentId: seg.body.id },
      journey: { steps: [{ id: "gift", type: "award", rewardId: reward.body.id }] },
    });
    const doc = (await call("GET", "/v1/program/config", { key: p.keys.admin })).body;
    const copy = await newProgram();
    const applied = await call("PUT", "/v1/program/config", { key: copy.keys.admin, body: doc });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const [c] = (await call("GET", "/v1/campaigns", { key: copy.keys.admin })).body.data;
    const [s] = (await call("GET", "/v1/segments", { key: copy.keys.admin })).body.data;
    const [r] = (await call("GET", "/v1/rewards", { key: copy.keys.admin })).body.data;
    expect(c.trigger).toEqual({ type: "segment_entry", segmentId: s.id });
    expect(c.journey.steps[0]).toMatchObject({ rewardId: r.id });
    expect(s.id).not.toBe(seg.body.id);
  });
});
