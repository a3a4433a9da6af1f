import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { runScheduled, schedule } from "../../src/cron/schedule";
import { systemKeys } from "../../src/ledger/system-keys";
import { verifyLegacySignature } from "../../src/lib/signing";
import { retryPendingAwards } from "../../src/services/campaigns/fire";
import { deliverDueMessages } from "../../src/services/campaigns/messages";
import { consumeOutboxEvents, runBroadcasts, runCalendarTriggers } from "../../src/services/campaigns/triggers";
import { memberLedger, systemWriteRequest } from "../../src/services/ledger/write";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const DAY = 86_400_000;
const SECOND = 1000;

type Received = { headers: Record<string, string>; body: string };
const bucketUrl = (bucket: string) => `http://receiver.test/__test/receiver/${bucket}`;
const received = async (bucket: string): Promise<Received[]> => (await call("GET", `/__test/receiver/${bucket}`)).body.received;
/** Script a receiver bucket: these statuses first, then `then` (a 3xx answers with Location `location`). */
async function script(bucket: string, statuses: number[], then = 200, location?: string) {
  expect((await call("PUT", `/__test/receiver/${bucket}`, { body: { statuses, then, location } })).status).toBe(200);
}

/** One run of this feature's every-minute work, at `at`. */
async function tick(at = new Date()) {
  const events = await consumeOutboxEvents(testEnv, at, 500);
  const broadcasts = await runBroadcasts(testEnv, at, 500);
  const retried = await retryPendingAwards(testEnv, at, 500);
  const delivered = await deliverDueMessages(testEnv, at, 500);
  return { events, broadcasts, retried, delivered };
}

async function createCampaign(p: TestProgram, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/campaigns", { key: p.keys.admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; experiment: { id: string } | null; spentMinor: number };
}

async function setChannel(p: TestProgram, channel: string, bucket: string) {
  const res = await call("PUT", `/v1/channels/${channel}`, { key: p.keys.admin, body: { url: bucketUrl(bucket) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { secret: string };
}

async function occurrences(p: TestProgram, campaignId: string) {
  const res = await call("GET", `/v1/campaigns/${campaignId}/occurrences?limit=500`, { key: p.keys.admin });
  expect(res.status).toBe(200);
  return res.body as {
    outcomes: Record<string, number>;
    data: Array<{
      memberId: string;
      occurrenceKey: string;
      outcome: string;
      variantKey: string | null;
      context: Record<string, unknown> | null;
    }>;
  };
}

async function campaignMessages(p: TestProgram, campaignId: string) {
  const res = await call("GET", `/v1/campaigns/${campaignId}/messages?limit=500`, { key: p.keys.admin });
  expect(res.status).toBe(200);
  return res.body as {
    summary: Record<string, number>;
    data: Array<{
      id: string;
      memberId: string;
      channel: string;
      body: string;
      status: string;
      attempts: number;
      nextAttemptAt: string | null;
      lastError: string | null;
    }>;
  };
}

/** Members tagged `tag`, and a segment of exactly them (recomputed). */
async function segmentOf(p: TestProgram, tag: string, profiles: Array<Record<string, unknown>>) {
  const members = [];
  for (const profile of profiles) members.push(await newMember(p, { ...profile, tags: [tag] }));
  const seg = await call("POST", "/v1/segments", {
    key: p.keys.admin,
    body: { name: tag, rule: { field: "tags", op: "contains", value: tag } },
  });
  expect(seg.status, JSON.stringify(seg.body)).toBe(201);
  expect((await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin })).status).toBe(200);
  return { segmentId: seg.body.id as string, members };
}

async function campaignEntries(memberId: string, campaignId: string) {
  const r = await db().$client.execute({
    sql: "SELECT points, request_key FROM ledger_entries WHERE member_id = ? AND source_type = 'campaign' AND source_id = ?",
    args: [memberId, campaignId],
  });
  return r.rows.map((row) => ({ points: Number(row.points), requestKey: String(row.request_key) }));
}

describe("campaigns: triggers fire once per occurrence", () => {
  it("welcome: awards through the ledger, messages respect consent and are delivered signed; reruns fire nothing", async () => {
    const p = await newProgram({ expiryDays: null, pointCostPer1000: 1000 });
    const bucket = uniqueKey("email");
    const { secret } = await setChannel(p, "email", bucket);
    expect(secret).toMatch(/^whsec_/);
    // A second PUT keeps the secret (not shown again); the list never shows it.
    const again = await call("PUT", "/v1/channels/email", { key: p.keys.admin, body: { url: bucketUrl(bucket) } });
    expect(again.status).toBe(200);
    expect(again.body.secret).toBeUndefined();
    expect((await call("GET", "/v1/channels", { key: p.keys.admin })).body.data).toEqual([
      expect.objectContaining({ channel: "email", url: bucketUrl(bucket) }),
    ]);

    const campaign = await createCampaign(p, {
      name: "Welcome",
      trigger: { type: "welcome" },
      actions: [
        { type: "award_points", points: 100 },
        {
          type: "send_message",
          channel: "email",
          template: "Hello {{name}}, you have {{balance}} points{{nickname}}. {{ points }} from {{campaign}}",
        },
      ],
    });
    const ana = await newMember(p, { name: "Ana <b>&", email: "ana@example.com", consent: { email: true } });
    const bo = await newMember(p, { name: "Bo" });

    await runScheduled("* * * * *", testEnv, new Date());
    // Whichever run consumed the signups (another file's cron may), the end state is the same.
    await tick();
    const occ = await occurrences(p, campaign.id);
    expect(occ.outcomes).toEqual({ awarded: 2 });
    expect(occ.data.map((o) => o.occurrenceKey)).toEqual(["welcome", "welcome"]);
    expect(await campaignEntries(ana.id, campaign.id)).toEqual([{ points: 100, requestKey: `campaign:${campaign.id}:${ana.id}:welcome` }]);
    expect(await ledgerSum(ana.id)).toMatchObject({ sum: 100, balance: 100 });
    expect(await ledgerSum(bo.id)).toMatchObject({ sum: 100, balance: 100 });

    const msgs = await campaignMessages(p, campaign.id);
    const byMember = Object.fromEntries(msgs.data.map((m) => [m.memberId, m]));
    expect(byMember[ana.id]).toMatchObject({
      channel: "email",
      status: "delivered",
      attempts: 1,
      body: "Hello Ana &lt;b&gt;&amp;, you have 100 points. 100 from Welcome",
    });
    expect(byMember[bo.id]).toMatchObject({ status: "skipped_no_consent", attempts: 0 });
    expect(msgs.summary).toMatchObject({ total: 2, delivered: 1, skippedNoConsent: 1 });

    const got = await received(bucket);
    expect(got).toHaveLength(1);
    const payload = JSON.parse(got[0].body);
    expect(payload).toMatchObject({
      id: byMember[ana.id].id,
      channel: "email",
      campaignId: campaign.id,
      to: { memberId: ana.id, email: "ana@example.com" },
      body: byMember[ana.id].body,
    });
    expect(
      await verifyLegacySignature({ header: got[0].headers["x-loyalty-signature"], body: got[0].body, secrets: [secret] }),
    ).toMatchObject({
      ok: true,
    });
    // The same message verifies with an off-the-shelf Standard Webhooks receiver, webhook-id = the message id.
    expect(new Webhook(secret).verify(got[0].body, got[0].headers)).toMatchObject({ id: byMember[ana.id].id });
    expect(got[0].headers["webhook-id"]).toBe(byMember[ana.id].id);

    // Cost: 2 × 100 points at 1000 minor per 1000 points.
    expect((await call("GET", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin })).body).toMatchObject({
      spentMinor: 200,
      budgetMinor: null,
    });

    // Rerun, and even replay the events (as if the consumer crashed before marking them): nothing new.
    await db().$client.execute({
      sql: "UPDATE outbox_events SET dispatched_at = NULL WHERE program_id = ? AND type = 'member.created'",
      args: [p.programId],
    });
    await tick();
    await runScheduled("* * * * *", testEnv, new Date());
    expect((await occurrences(p, campaign.id)).data).toHaveLength(2);
    expect(await ledgerSum(ana.id)).toMatchObject({ sum: 100 });
    expect((await campaignMessages(p, campaign.id)).data).toHaveLength(2);
    expect(await received(bucket)).toHaveLength(1);
  });

  it("delivery retries with exponential backoff until the endpoint answers; no endpoint and withdrawn consent are recorded", async () => {
    const p = await newProgram();
    const bucket = uniqueKey("sms");
    await setChannel(p, "sms", bucket);
    await script(bucket, [500, 503]);
    // A broadcast an hour ahead: the run at that time is this test's own (other files' crons run at the real time).
    const t0 = new Date(Date.now() + 3600_000);
    const members = await segmentOf(p, "sms-test", [
      { name: "Cy\u0007 Lee", phone: "+15550001", consent: { sms: true, push: true } },
      { name: "Di", phone: "+15550002", consent: { sms: true } },
    ]);
    const [m, withdrawn] = members.members;
    const campaign = await createCampaign(p, {
      name: "SMS blast",
      trigger: { type: "broadcast", sendAt: t0.toISOString() },
      audience: { segmentId: members.segmentId },
      actions: [
        { type: "send_message", channel: "sms", template: "Hi {{name}}\nwelcome" },
        { type: "send_message", channel: "push", template: "Welcome {{firstName}}" },
      ],
    });
    await runBroadcasts(testEnv, t0, 500);
    // Consent withdrawn after the message was queued: checked again at send time.
    expect((await call("PATCH", `/v1/members/${withdrawn.id}`, { key: p.keys.admin, body: { consent: { sms: false } } })).status).toBe(200);
    await deliverDueMessages(testEnv, t0, 500);
    let msgs = await campaignMessages(p, campaign.id);
    const sms = () => msgs.data.find((x) => x.memberId === m.id && x.channel === "sms")!;
    expect(sms()).toMatchObject({ status: "pending", attempts: 1, lastError: "HTTP 500", body: "Hi Cy  Lee\nwelcome" });
    expect(Date.parse(sms().nextAttemptAt!) - t0.getTime()).toBe(30 * SECOND);
    expect(msgs.data.find((x) => x.memberId === m.id && x.channel === "push")).toMatchObject({
      status: "skipped_no_endpoint",
      attempts: 0,
    });
    expect(msgs.data.find((x) => x.memberId === withdrawn.id)).toMatchObject({ status: "skipped_no_consent", attempts: 0 });

    // Not due yet: nothing is sent.
    await deliverDueMessages(testEnv, new Date(t0.getTime() + 10 * SECOND), 500);
    expect(await received(bucket)).toHaveLength(1);

    const t1 = new Date(t0.getTime() + 31 * SECOND);
    await deliverDueMessages(testEnv, t1, 500);
    msgs = await campaignMessages(p, campaign.id);
    expect(sms()).toMatchObject({ status: "pending", attempts: 2, lastError: "HTTP 503" });
    expect(Date.parse(sms().nextAttemptAt!) - t1.getTime()).toBe(60 * SECOND);

    await deliverDueMessages(testEnv, new Date(t1.getTime() + 61 * SECOND), 500);
    msgs = await campaignMessages(p, campaign.id);
    expect(sms()).toMatchObject({ status: "delivered", attempts: 3, nextAttemptAt: null });
    const got = await received(bucket);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => JSON.parse(r.body).id))).toEqual(new Set([sms().id]));
    expect(JSON.parse(got[2].body).to).toEqual({ memberId: m.id, externalId: expect.any(String), phone: "+15550001" });
    // Delivered is final.
    await deliverDueMessages(testEnv, new Date(t1.getTime() + 3600 * SECOND), 500);
    expect(await received(bucket)).toHaveLength(3);
  });

  it("a channel endpoint that redirects is a failed attempt: the redirect is never followed", async () => {
    for (const status of [302, 307]) {
      const p = await newProgram();
      const [bucket, elsewhere] = [uniqueKey("redirecting"), uniqueKey("elsewhere")];
      await setChannel(p, "email", bucket);
      // A redirect could aim a signed message anywhere, past the URL policy checked on the stored url.
      await script(bucket, [], status, bucketUrl(elsewhere));
      const t0 = new Date(Date.now() + 3600_000);
      const { segmentId } = await segmentOf(p, `redirect-${status}`, [{ name: "Ed", email: "ed@example.com", consent: { email: true } }]);
      const campaign = await createCampaign(p, {
        name: "Redirected",
        trigger: { type: "broadcast", sendAt: t0.toISOString() },
        audience: { segmentId },
        actions: [{ type: "send_message", channel: "email", template: "Hi {{name}}" }],
      });
      await runBroadcasts(testEnv, t0, 500);
      await deliverDueMessages(testEnv, t0, 500);
      const [msg] = (await campaignMessages(p, campaign.id)).data;
      expect(msg).toMatchObject({ status: "pending", attempts: 1 });
      expect(msg.lastError).toMatch(new RegExp(`^HTTP ${status}: redirect to .* not followed`));
      expect(await received(bucket)).toHaveLength(1);
      expect(await received(elsewhere)).toHaveLength(0);
    }
  });

  it("birthday: on the day (or in the month), once per member per year", async () => {
    const p = await newProgram({ expiryDays: null });
    const now = new Date();
    const mmdd = now.toISOString().slice(5, 10);
    const otherMonth = String(((now.getUTCMonth() + 6) % 12) + 1).padStart(2, "0");
    const sameMonthOtherDay = `${now.toISOString().slice(5, 8)}${now.getUTCDate() === 1 ? "02" : "01"}`;
    const today = await newMember(p, { birthday: `1990-${mmdd}` });
    const thisMonth = await newMember(p, { birthday: `1985-${sameMonthOtherDay}` });
    const later = await newMember(p, { birthday: `1991-${otherMonth}-15` });
    const noBirthday = await newMember(p);
    const onDay = await createCampaign(p, {
      name: "Happy birthday",
      trigger: { type: "birthday", on: "day" },
      actions: [{ type: "award_points", points: 50 }],
    });
    const inMonth = await createCampaign(p, {
      name: "Birthday month",
      trigger: { type: "birthday", on: "month" },
      actions: [{ type: "award_points", points: 5 }],
    });

    await runCalendarTriggers(testEnv, now, 500);
    await runCalendarTriggers(testEnv, new Date(now.getTime() + 60_000), 500);
    const year = now.getUTCFullYear();
    expect((await occurrences(p, onDay.id)).data.map((o) => [o.memberId, o.occurrenceKey, o.outcome])).toEqual([
      [today.id, `birthday:${year}`, "awarded"],
    ]);
    expect((await occurrences(p, inMonth.id)).data.map((o) => o.memberId).sort()).toEqual([today.id, thisMonth.id].sort());
    expect(await ledgerSum(today.id)).toMatchObject({ sum: 55 });
    expect(await ledgerSum(later.id)).toMatchObject({ sum: 0 });
    expect(await ledgerSum(noBirthday.id)).toMatchObject({ sum: 0 });

    // A year later it fires again, once.
    const nextYear = new Date(Date.UTC(year + 1, now.getUTCMonth(), now.getUTCDate(), 12));
    if (nextYear.toISOString().slice(5, 10) === mmdd) {
      await runCalendarTriggers(testEnv, nextYear, 500);
      await runCalendarTriggers(testEnv, nextYear, 500);
      expect((await occurrences(p, onDay.id)).data.map((o) => o.occurrenceKey).sort()).toEqual([
        `birthday:${year}`,
        `birthday:${year + 1}`,
      ]);
    }
  });

  it("tier up and stage change react to outbox events once per event; the frequency cap holds", async () => {
    // Purchases dated ~100 days back (below) need a back-dating window that long.
    const p = await newProgram({ expiryDays: null, backdateDays: 120 });
    const ladder = [];
    for (const t of [
      { name: "Bronze", rank: 0, qualification: { windowDays: 365 } },
      { name: "Silver", rank: 1, qualification: { windowDays: 365, minSpend: 50_000 } },
      { name: "Gold", rank: 2, qualification: { windowDays: 365, minSpend: 150_000 } },
    ]) {
      const res = await call("POST", "/v1/tiers", { key: p.keys.admin, body: t });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ladder.push(res.body as { id: string });
    }
    const anyUpgrade = await createCampaign(p, {
      name: "Any upgrade",
      trigger: { type: "tier_up" },
      actions: [{ type: "award_points", points: 10 }],
    });
    const capped = await createCampaign(p, {
      name: "Upgrade, once a year",
      trigger: { type: "tier_up" },
      frequencyCap: { max: 1, perDays: 365 },
      actions: [{ type: "award_points", points: 7 }],
    });
    const toGold = await createCampaign(p, {
      name: "Welcome to Gold",
      trigger: { type: "tier_up", toTierIds: [ladder[2].id] },
      actions: [{ type: "send_message", channel: "email", template: "Welcome to {{newTier}}, {{name}}" }],
    });
    const dormant = await createCampaign(p, {
      name: "Wake up",
      trigger: { type: "stage_change", to: ["dormant"] },
      actions: [{ type: "award_points", points: 25 }],
    });

    const climber = await newMember(p, { name: "Eve", consent: { email: true } });
    await accrue(p, climber.id, 60_000); // → Silver
    await tick();
    await accrue(p, climber.id, 100_000); // → Gold
    await tick();
    await tick();
    const upgrades = await occurrences(p, anyUpgrade.id);
    expect(upgrades.data).toHaveLength(2);
    expect(upgrades.data.every((o) => o.occurrenceKey.startsWith("tier_up:evt_") && o.outcome === "awarded")).toBe(true);
    expect((await occurrences(p, capped.id)).data).toHaveLength(1);
    const gold = await occurrences(p, toGold.id);
    expect(gold.data).toEqual([
      expect.objectContaining({ memberId: climber.id, outcome: "done", context: expect.objectContaining({ newTier: "Gold" }) }),
    ]);
    expect((await campaignMessages(p, toGold.id)).data[0].body).toBe("Welcome to Gold, Eve");

    // Two purchases ~100 days ago make a member dormant at the next lifecycle run.
    const sleeper = await newMember(p);
    const longAgo = (d: number) => new Date(Date.now() - d * DAY).toISOString();
    await accrue(p, sleeper.id, 1_000, { occurredAt: longAgo(110) });
    await accrue(p, sleeper.id, 1_000, { occurredAt: longAgo(100) });
    expect((await call("POST", "/v1/analytics/recompute", { key: p.keys.admin })).status).toBe(200);
    await tick();
    await tick();
    const woken = await occurrences(p, dormant.id);
    expect(woken.data).toEqual([
      expect.objectContaining({ memberId: sleeper.id, outcome: "awarded", occurrenceKey: expect.stringMatching(/^stage:dormant:evt_/) }),
    ]);
    // A rerun of the lifecycle writes no new event, so nothing fires again.
    await call("POST", "/v1/analytics/recompute", { key: p.keys.admin });
    await tick();
    expect((await occurrences(p, dormant.id)).data).toHaveLength(1);
    expect(await campaignEntries(sleeper.id, dormant.id)).toEqual([{ points: 25, requestKey: expect.any(String) }]);
  });

  it("points about to expire: one reminder per member per first-expiry date", async () => {
    const p = await newProgram({ expiryDays: 30 });
    const campaign = await createCampaign(p, {
      name: "Use them or lose them",
      trigger: { type: "points_expiring", daysAhead: 7, minPoints: 10 },
      actions: [{ type: "send_message", channel: "email", template: "{{expiringPoints}} points expire on {{expiresOn}}" }],
    });
    const m = await newMember(p, { consent: { email: true } });
    const few = await newMember(p);
    await accrue(p, m.id, 5_000);
    await accrue(p, few.id, 500); // 5 points: under minPoints
    const now = Date.now();
    await runCalendarTriggers(testEnv, new Date(now), 500);
    expect((await occurrences(p, campaign.id)).data).toHaveLength(0);

    await runCalendarTriggers(testEnv, new Date(now + 25 * DAY), 500);
    await runCalendarTriggers(testEnv, new Date(now + 26 * DAY), 500);
    const occ = await occurrences(p, campaign.id);
    const expiresOn = new Date(now + 30 * DAY).toISOString().slice(0, 10);
    expect(occ.data).toEqual([
      expect.objectContaining({
        memberId: m.id,
        occurrenceKey: `expiring:${expiresOn}`,
        outcome: "done",
        context: { expiringPoints: 50, expiresOn },
      }),
    ]);
    expect((await campaignMessages(p, campaign.id)).data[0]).toMatchObject({ body: `50 points expire on ${expiresOn}`, status: "pending" });
  });

  it("broadcast: to the segment from its send time, once per member, then the campaign ends", async () => {
    const p = await newProgram({ expiryDays: null });
    const vips = [];
    for (let i = 0; i < 3; i++) vips.push(await newMember(p, { tags: ["vip"] }));
    const other = await newMember(p);
    const seg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: { name: "VIPs", rule: { field: "tags", op: "contains", value: "vip" } },
    });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin });
    const sendAt = new Date(Date.now() + 3600_000);
    const campaign = await createCampaign(p, {
      name: "VIP night",
      trigger: { type: "broadcast", sendAt: sendAt.toISOString() },
      audience: { segmentId: seg.body.id },
      actions: [{ type: "award_points", points: 30 }],
    });

    await runBroadcasts(testEnv, new Date(), 500);
    expect((await occurrences(p, campaign.id)).data).toHaveLength(0);
    await runBroadcasts(testEnv, new Date(sendAt.getTime() + 1000), 2);
    const occ = await occurrences(p, campaign.id);
    expect(occ.data.map((o) => o.memberId).sort()).toEqual(vips.map((v) => v.id).sort());
    expect(occ.outcomes).toEqual({ awarded: 3 });
    expect(await ledgerSum(other.id)).toMatchObject({ sum: 0 });
    expect((await call("GET", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin })).body.status).toBe("ended");
    // Ended: nothing more, even for a member who joins the segment later.
    await runBroadcasts(testEnv, new Date(sendAt.getTime() + 2000), 500);
    expect((await occurrences(p, campaign.id)).data).toHaveLength(3);
  });

  it("issue_reward gives a coupon as a gift (no points charged), costed against the budget, and stops when stock runs out", async () => {
    const p = await newProgram({ expiryDays: null });
    const reward = await call("POST", "/v1/rewards", {
      key: p.keys.admin,
      body: {
        name: "Free coffee",
        kind: "free_product",
        productSku: "COFFEE",
        pointsCost: 500,
        costMinor: 300,
        inventory: 2,
        couponValidDays: 30,
      },
    });
    expect(reward.status, JSON.stringify(reward.body)).toBe(201);
    const campaign = await createCampaign(p, {
      name: "Coffee on us",
      trigger: { type: "welcome" },
      actions: [
        { type: "issue_reward", rewardId: reward.body.id },
        { type: "send_message", channel: "email", template: "Your code: {{couponCode}} for {{rewardName}}" },
      ],
    });
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await newMember(p, { consent: { email: true } }));
    await tick();
    await tick();
    const occ = await occurrences(p, campaign.id);
    expect(occ.outcomes).toEqual({ awarded: 2, "refused:out_of_stock": 1 });
    const coupons = await db().$client.execute({
      sql: "SELECT member_id, code, points_cost, status FROM coupons WHERE program_id = ?",
      args: [p.programId],
    });
    expect(coupons.rows).toHaveLength(2);
    expect(coupons.rows.every((r) => Number(r.points_cost) === 0 && r.status === "issued")).toBe(true);
    for (const m of members) expect(await ledgerSum(m.id)).toMatchObject({ sum: 0 });
    expect((await call("GET", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin })).body.spentMinor).toBe(600);
    const bodies = (await campaignMessages(p, campaign.id)).data.map((m) => m.body).sort();
    expect(bodies).toEqual(coupons.rows.map((r) => `Your code: ${r.code} for Free coffee`).sort());
    const events = await db().$client.execute({
      sql: "SELECT COUNT(*) AS n FROM outbox_events WHERE program_id = ? AND type = 'reward.issued'",
      args: [p.programId],
    });
    expect(Number(events.rows[0].n)).toBe(2);
  });

  it("erasing a member redacts their campaign messages and stops unsent ones", async () => {
    const p = await newProgram();
    const bucket = uniqueKey("email");
    await setChannel(p, "email", bucket);
    await script(bucket, [500]);
    const t0 = new Date(Date.now() + 3600_000);
    const { segmentId, members } = await segmentOf(p, "erase-test", [{ name: "Fay", email: "fay@example.com", consent: { email: true } }]);
    const m = members[0];
    const campaign = await createCampaign(p, {
      name: "Hi",
      trigger: { type: "broadcast", sendAt: t0.toISOString() },
      audience: { segmentId },
      actions: [{ type: "send_message", channel: "email", template: "Hi {{name}} <{{email}}>" }],
    });
    await runBroadcasts(testEnv, t0, 500);
    await deliverDueMessages(testEnv, t0, 500);
    expect((await campaignMessages(p, campaign.id)).data[0]).toMatchObject({
      status: "pending",
      attempts: 1,
      body: "Hi Fay <fay@example.com>",
    });
    expect((await call("POST", `/v1/members/${m.id}/erase`, { key: p.keys.admin })).status).toBe(200);
    await consumeOutboxEvents(testEnv, new Date(), 500);
    await deliverDueMessages(testEnv, new Date(t0.getTime() + 60 * SECOND), 500);
    expect((await campaignMessages(p, campaign.id)).data[0]).toMatchObject({ status: "failed", body: "", lastError: "member erased" });
    expect(await received(bucket)).toHaveLength(1);
  });

  it("rejects bad definitions and foreign references with 400, unknown ids with 404; fired campaigns cannot be deleted", async () => {
    const p = await newProgram({ expiryDays: null });
    const other = await newProgram();
    const otherSeg = await call("POST", "/v1/segments", {
      key: other.keys.admin,
      body: { name: "x", rule: { field: "tags", op: "contains", value: "x" } },
    });
    const bad = [
      { name: "no actions", trigger: { type: "welcome" } },
      { name: "bad trigger", trigger: { type: "sometimes" }, actions: [{ type: "award_points", points: 1 }] },
      { name: "broadcast without segment", trigger: { type: "broadcast" }, actions: [{ type: "award_points", points: 1 }] },
      {
        name: "foreign segment",
        trigger: { type: "broadcast" },
        audience: { segmentId: otherSeg.body.id },
        actions: [{ type: "award_points", points: 1 }],
      },
      { name: "bad channel", trigger: { type: "welcome" }, actions: [{ type: "send_message", channel: "fax", template: "x" }] },
      { name: "negative points", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: -5 }] },
      {
        name: "bad holdout",
        trigger: { type: "welcome" },
        actions: [{ type: "award_points", points: 1 }],
        experiment: { variants: [{ key: "a", weight: 1 }], holdoutPct: 120 },
      },
      { name: "typo", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 1 }], budjet: 5 },
    ];
    for (const body of bad) {
      const res = await call("POST", "/v1/campaigns", { key: p.keys.admin, body });
      expect(res.status, body.name).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(
      (
        await call("POST", "/v1/campaigns", {
          key: p.keys.storefront,
          body: { name: "x", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 1 }] },
        })
      ).status,
    ).toBe(403);
    expect((await call("GET", "/v1/campaigns/cmp_nope", { key: p.keys.admin })).status).toBe(404);
    expect((await call("GET", "/v1/campaigns/cmp_nope/messages", { key: p.keys.admin })).status).toBe(404);
    expect((await call("PUT", "/v1/channels/fax", { key: p.keys.admin, body: { url: "https://x.example" } })).status).toBe(400);
    expect((await call("PUT", "/v1/channels/email", { key: p.keys.admin, body: { url: "ftp://x.example" } })).status).toBe(400);
    // Channel endpoints follow the webhook URL policy: public https hosts only, nothing written otherwise.
    for (const url of [
      "http://messaging.example.com/hook",
      "https://127.0.0.1/hook",
      "https://10.0.0.5/hook",
      "https://169.254.169.254/latest",
      "https://localhost/hook",
      "https://2130706433/hook",
      "https://user:pw@messaging.example.com/",
    ]) {
      const refused = await call("PUT", "/v1/channels/sms", { key: p.keys.admin, body: { url } });
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.message, url).toMatch(/url/);
    }
    expect(
      (await call("GET", "/v1/channels", { key: p.keys.admin })).body.data.some((ch: { channel: string }) => ch.channel === "sms"),
    ).toBe(false);

    const c = await createCampaign(p, { name: "Welcome", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 1 }] });
    expect((await call("GET", `/v1/campaigns/${c.id}`, { key: other.keys.admin })).status).toBe(404);
    expect((await call("PATCH", `/v1/campaigns/${c.id}`, { key: p.keys.admin, body: { trigger: { type: "birthday" } } })).status).toBe(409);
    const paused = await call("PATCH", `/v1/campaigns/${c.id}`, { key: p.keys.admin, body: { status: "paused", budgetMinor: 1000 } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: "paused", budgetMinor: 1000, remainingBudgetMinor: 1000 });
    // Paused: a signup does not fire it.
    await newMember(p);
    await tick();
    expect((await occurrences(p, c.id)).data).toHaveLength(0);
    await call("PATCH", `/v1/campaigns/${c.id}`, { key: p.keys.admin, body: { status: "active" } });
    const later = await newMember(p);
    await tick();
    expect((await occurrences(p, c.id)).data.map((o) => o.memberId)).toEqual([later.id]);
    const del = await call("DELETE", `/v1/campaigns/${c.id}`, { key: p.keys.admin });
    expect(del.status).toBe(409);
    const unfired = await createCampaign(p, {
      name: "Draft",
      status: "draft",
      trigger: { type: "birthday" },
      actions: [{ type: "award_points", points: 1 }],
    });
    expect((await call("DELETE", `/v1/campaigns/${unfired.id}`, { key: p.keys.admin })).status).toBe(204);
    const audit = await db().$client.execute({
      sql: "SELECT action FROM audit_log WHERE program_id = ? AND entity_type = 'campaign' ORDER BY created_at",
      args: [p.programId],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(expect.arrayContaining(["campaign.created", "campaign.updated", "campaign.deleted"]));
  });
});

describe("budgets", () => {
  it("a campaign stops awarding at its budget: no overspend under concurrent awards in many members' ledgers", async () => {
    // 1 point costs 10 minor units: an award of 10 points costs 100; the budget covers 10 awards.
    const p = await newProgram({ expiryDays: null, pointCostPer1000: 10_000 });
    const campaign = await createCampaign(p, {
      name: "Flash bonus",
      trigger: { type: "broadcast" },
      audience: {
        segmentId: (
          await call("POST", "/v1/segments", {
            key: p.keys.admin,
            body: { name: "all", rule: { field: "tags", op: "contains", value: "flash" } },
          })
        ).body.id,
      },
      actions: [{ type: "award_points", points: 10 }],
      budgetMinor: 1050,
    });
    const members = [];
    for (let i = 0; i < 40; i++) members.push(await newMember(p));
    // All 40 at once, straight into their ledger objects: only the database guard can stop this.
    const results = await Promise.all(
      members.map(async (m) => {
        const body = { campaignId: campaign.id, occurrenceKey: "flash", points: 10 };
        const req = await systemWriteRequest({
          programId: p.programId,
          memberId: m.id,
          idempotencyKey: systemKeys.campaign(campaign.id, m.id, "flash"),
          operation: "campaign.award",
          body,
        });
        return memberLedger(testEnv, p.programId, m.id).awardCampaign(req, body);
      }),
    );
    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(10);
    expect(refused.every((r) => !r.ok && r.code === "budget_exhausted")).toBe(true);
    const row = (await call("GET", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin })).body;
    expect(row).toMatchObject({ spentMinor: 1000, budgetMinor: 1050, remainingBudgetMinor: 50 });
    const sums = await Promise.all(members.map((m) => ledgerSum(m.id)));
    expect(sums.reduce((a, s) => a + s.sum, 0)).toBe(100);
    expect(sums.every((s) => s.sum === s.balance)).toBe(true);
  });

  it("through the cron: awards stop at the budget and the rest are recorded as budget_exhausted", async () => {
    const p = await newProgram({ expiryDays: null, pointCostPer1000: 10_000 });
    const campaign = await createCampaign(p, {
      name: "Welcome (capped)",
      trigger: { type: "welcome" },
      actions: [
        { type: "award_points", points: 10 },
        { type: "send_message", channel: "email", template: "{{points}} points for you" },
      ],
      budgetMinor: 550,
    });
    const members = [];
    for (let i = 0; i < 12; i++) members.push(await newMember(p, { consent: { email: true } }));
    await tick();
    await tick();
    const occ = await occurrences(p, campaign.id);
    expect(occ.outcomes).toEqual({ awarded: 5, budget_exhausted: 7 });
    expect((await call("GET", `/v1/campaigns/${campaign.id}`, { key: p.keys.admin })).body.spentMinor).toBe(500);
    // Messages only for members who got the points.
    const msgs = await campaignMessages(p, campaign.id);
    expect(msgs.data).toHaveLength(5);
    const awarded = new Set(occ.data.filter((o) => o.outcome === "awarded").map((o) => o.memberId));
    expect(msgs.data.every((m) => awarded.has(m.memberId))).toBe(true);
  });

  it("a month's budget caps campaign awards across campaigns; program cost and CAC are reported", async () => {
    const p = await newProgram({ expiryDays: null, pointCostPer1000: 10_000 });
    const period = new Date().toISOString().slice(0, 7);
    expect((await call("PUT", "/v1/budgets/2026-13", { key: p.keys.admin, body: { amountMinor: 1 } })).status).toBe(400);
    expect((await call("GET", `/v1/budgets/${period}`, { key: p.keys.admin })).status).toBe(404);
    const put = await call("PUT", `/v1/budgets/${period}`, { key: p.keys.admin, body: { amountMinor: 300 } });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(put.body).toMatchObject({ period, amountMinor: 300, campaignSpentMinor: 0, remainingMinor: 300 });
    await createCampaign(p, { name: "A", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 10 }] });
    await createCampaign(p, { name: "B", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 10 }] });
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await newMember(p, { acquisitionChannel: i < 2 ? "paid_social" : "organic" }));
    await tick();
    await tick();
    // 6 possible awards of 100; the month's 300 allows 3.
    const budget = (await call("GET", `/v1/budgets/${period}`, { key: p.keys.admin })).body;
    expect(budget).toMatchObject({ amountMinor: 300, campaignSpentMinor: 300, remainingMinor: 0 });
    const total = (await Promise.all(members.map((m) => ledgerSum(m.id)))).reduce((a, s) => a + s.sum, 0);
    expect(total).toBe(30);
    // Whole program cost: the 30 campaign points plus a purchase's 100 points, at 10 minor each.
    await accrue(p, members[0].id, 10_000);
    expect((await call("GET", `/v1/budgets/${period}`, { key: p.keys.admin })).body.programCost).toMatchObject({
      pointsIssued: 130,
      campaignPointsIssued: 30,
      pointsCostMinor: 1300,
      totalMinor: 1300,
    });
    expect((await call("PUT", `/v1/budgets/${period}`, { key: p.keys.admin, body: { amountMinor: 500 } })).status).toBe(200);
    expect((await call("GET", "/v1/budgets", { key: p.keys.admin })).body.data).toEqual([
      expect.objectContaining({ period, amountMinor: 500, campaignSpentMinor: 300 }),
    ]);

    expect(
      (await call("PUT", `/v1/acquisition-spend/paid_social/${period}`, { key: p.keys.admin, body: { amountMinor: 5000 } })).status,
    ).toBe(201);
    expect(
      (await call("PUT", `/v1/acquisition-spend/paid_social/${period}`, { key: p.keys.admin, body: { amountMinor: 6000 } })).status,
    ).toBe(200);
    expect((await call("PUT", `/v1/acquisition-spend/tv/${period}`, { key: p.keys.admin, body: { amountMinor: 9000 } })).status).toBe(201);
    const cac = await call("GET", `/v1/analytics/cac?from=${period}&to=${period}`, { key: p.keys.admin });
    expect(cac.status).toBe(200);
    // (LTV:CAC of these cohorts: test/api/tier-economics.test.ts.)
    expect(cac.body.channels).toMatchObject([
      { channel: "organic", spendMinor: 0, newMembers: 1, cacMinor: 0 },
      { channel: "paid_social", spendMinor: 6000, newMembers: 2, cacMinor: 3000 },
      { channel: "tv", spendMinor: 9000, newMembers: 0, cacMinor: null },
    ]);
    expect(cac.body.total).toMatchObject({ spendMinor: 15000, newMembers: 3, blendedCacMinor: 5000 });
    expect((await call("GET", "/v1/analytics/cac?from=2026-05&to=2026-01", { key: p.keys.admin })).status).toBe(400);
  });
});

describe("campaign crons are registered", () => {
  it("every minute, hourly (local midnight) and nightly", () => {
    const names = (s: keyof typeof schedule) => schedule[s].map((j) => j.name);
    expect(names("* * * * *")).toEqual(
      expect.arrayContaining(["campaigns.events", "campaigns.broadcasts", "campaigns.awards.retry", "messages.deliver"]),
    );
    expect(names("0 * * * *")).toEqual(expect.arrayContaining(["campaigns.calendar", "kpis.snapshot"]));
    expect(names("0 3 * * *")).toEqual(expect.arrayContaining(["experiments.stop-rule"]));
  });
});
