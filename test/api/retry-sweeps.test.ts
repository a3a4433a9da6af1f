// Sweeps that retry rows never let one row that keeps failing hold the others. A failure is made
// real the way a bad row would be: a SQLite trigger refuses the writes of one member (the fault
// a corrupt or conflicting row causes), and the sweep runs with a batch of one, so the failing
// row is always the first candidate. The others must still go through, the failing one carries
// its attempts, next due time and error, and repeated failures are logged as alerts.
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadActiveCampaigns } from "../../src/services/campaigns/campaigns";
import { fireCampaign, MAX_AWARD_RETRIES, retryPendingAwards } from "../../src/services/campaigns/fire";
import { consumeOutboxEvents, MAX_DISPATCH_ATTEMPTS } from "../../src/services/campaigns/triggers";
import { SETTLE_ALERT_AFTER, settleReferrals } from "../../src/services/referrals/referrals";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const MINUTE = 60_000;
const sql = async (q: string, args: unknown[] = []) => (await db().$client.execute({ sql: q, args: args as never })).rows;

const triggers: string[] = [];
/** Every insert into `table` for this member fails, as a row the database keeps refusing would. */
async function refuseWrites(table: string, member: { id: string } | { externalId: string }) {
  const ref = "id" in member ? member.id : member.externalId;
  const name = `poison_${table}_${ref.replace(/\W/g, "_")}`;
  const who = "id" in member ? `'${member.id}'` : `(SELECT id FROM members WHERE external_id = '${member.externalId}')`;
  await sql(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN NEW.member_id = ${who} BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
  triggers.push(name);
  return () => dropTrigger(name);
}
async function dropTrigger(name: string) {
  await sql(`DROP TRIGGER IF EXISTS ${name}`);
  triggers.splice(triggers.indexOf(name), 1);
}
afterEach(async () => {
  for (const name of [...triggers]) await dropTrigger(name);
  vi.restoreAllMocks();
});

/** Alert lines the sweeps logged for `job`. */
function alerts(spy: { mock: { calls: unknown[][] } }, job: string) {
  return spy.mock.calls
    .map((args) => String(args[0]))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((l) => l.level === "alert" && l.job === job);
}

describe("retry sweeps skip past a row that keeps failing", () => {
  it("referral settlement: a referrer that cannot be credited does not block the next referral", async () => {
    const log = vi.spyOn(console, "error");
    const p = await newProgram();
    const put = await call("PUT", "/v1/referral-program", {
      key: p.keys.admin,
      body: { referrerPoints: 500, refereePoints: 0, maxPerMonth: null, minOrderAmount: 0 },
    });
    expect(put.status).toBe(200);
    const refer = async () => {
      const referrer = await newMember(p);
      const referee = await newMember(p, { referralCode: referrer.referralCode });
      const [row] = await sql("SELECT id FROM referrals WHERE referee_id = ?", [referee.id]);
      return { referrer, referee, referralId: String(row.id) };
    };
    const stuck = await refer();
    const next = await refer();
    expect(stuck.referralId < next.referralId).toBe(true);
    await refuseWrites("ledger_entries", { id: stuck.referrer.id });
    // Both qualify; the stuck one first.
    expect((await accrue(p, stuck.referee.id, 1000)).body.referral.status).toBe("qualified");
    expect((await accrue(p, next.referee.id, 1000)).body.referral.status).toBe("qualified");

    const t0 = Date.now();
    const scope = { programId: p.programId };
    expect(await settleReferrals(testEnv, db(), 1, new Date(t0), scope)).toMatchObject({ credited: 0, failed: 1 });
    // The failed one waits its turn: the next tick takes the other referral.
    expect(await settleReferrals(testEnv, db(), 1, new Date(t0), scope)).toMatchObject({ credited: 1, failed: 0 });
    expect(await sql("SELECT status FROM referrals WHERE id = ?", [next.referralId])).toEqual([
      expect.objectContaining({ status: "rewarded" }),
    ]);
    expect((await ledgerSum(next.referrer.id)).sum).toBe(500);
    const [failed] = await sql("SELECT status, settle_attempts, settle_after, settle_error FROM referrals WHERE id = ?", [
      stuck.referralId,
    ]);
    expect(failed).toMatchObject({ status: "qualified" });
    expect(Number(failed.settle_attempts)).toBeGreaterThanOrEqual(1);
    expect(Date.parse(String(failed.settle_after))).toBeGreaterThan(t0);
    expect(failed.settle_error).toBeTruthy();

    // It keeps being retried, backing off, and alerts once it has failed SETTLE_ALERT_AFTER times.
    let at = t0;
    for (let i = 0; i < SETTLE_ALERT_AFTER + 1; i++) {
      at += 7 * 3_600_000;
      await settleReferrals(testEnv, db(), 1, new Date(at), scope);
    }
    const [row] = await sql("SELECT status, settle_attempts FROM referrals WHERE id = ?", [stuck.referralId]);
    expect(row.status).toBe("qualified");
    expect(Number(row.settle_attempts)).toBeGreaterThanOrEqual(SETTLE_ALERT_AFTER);
    expect(alerts(log, "referrals.settle").some((a) => a.referralId === stuck.referralId)).toBe(true);

    // Once the fault is gone it settles like any other.
    for (const name of [...triggers]) await dropTrigger(name);
    await settleReferrals(testEnv, db(), 10, new Date(at + 7 * 3_600_000), scope);
    expect(await sql("SELECT status FROM referrals WHERE id = ?", [stuck.referralId])).toEqual([
      expect.objectContaining({ status: "rewarded" }),
    ]);
    expect((await ledgerSum(stuck.referrer.id)).sum).toBe(500);
  });

  it("campaign award retries: an award that keeps failing is skipped past, then given up as failed with an alert", async () => {
    const log = vi.spyOn(console, "error");
    const p = await newProgram({ expiryDays: null });
    const [stuck, next] = [await newMember(p), await newMember(p)];
    // Created after the members: only the firings below reach it.
    const created = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: { name: "Thanks", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 30 }] },
    });
    expect(created.status).toBe(201);
    const [campaign] = (await loadActiveCampaigns(db(), [p.programId], ["welcome"])).filter((c) => c.row.id === created.body.id);
    await refuseWrites("ledger_entries", { id: stuck.id });
    const releaseNext = await refuseWrites("ledger_entries", { id: next.id });
    // Both first attempts fail and stay pending; the stuck one is older.
    expect(await fireCampaign(testEnv, campaign, [{ memberId: stuck.id, occurrenceKey: "thanks" }], new Date())).toMatchObject({
      failed: 1,
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(await fireCampaign(testEnv, campaign, [{ memberId: next.id, occurrenceKey: "thanks" }], new Date())).toMatchObject({
      failed: 1,
    });
    await releaseNext();

    const t0 = Date.now() + 10 * MINUTE;
    const scope = { programId: p.programId };
    expect(await retryPendingAwards(testEnv, new Date(t0), 1, scope)).toMatchObject({ retried: 1, failed: 1 });
    expect(await retryPendingAwards(testEnv, new Date(t0), 1, scope)).toMatchObject({ retried: 1, awarded: 1 });
    expect((await ledgerSum(next.id)).sum).toBe(30);
    const outcome = async (memberId: string) =>
      (
        await sql("SELECT outcome, attempts, next_attempt_at FROM campaign_occurrences WHERE campaign_id = ? AND member_id = ?", [
          created.body.id,
          memberId,
        ])
      )[0];
    expect(await outcome(next.id)).toMatchObject({ outcome: "awarded" });
    const pending = await outcome(stuck.id);
    expect(pending).toMatchObject({ outcome: "pending", attempts: 1 });
    expect(Date.parse(String(pending.next_attempt_at))).toBeGreaterThan(t0);

    let at = t0;
    for (let i = 0; i < MAX_AWARD_RETRIES + 1; i++) {
      at += 7 * 3_600_000;
      await retryPendingAwards(testEnv, new Date(at), 1, scope);
    }
    expect(await outcome(stuck.id)).toMatchObject({ outcome: "failed", attempts: MAX_AWARD_RETRIES });
    expect(alerts(log, "campaigns.awards.retry").some((a) => a.memberId === stuck.id)).toBe(true);
    expect((await ledgerSum(stuck.id)).sum).toBe(0);
  });

  it("campaign triggers from the outbox: an event whose campaign cannot fire holds neither its page nor the queue", async () => {
    const p: TestProgram = await newProgram({ expiryDays: null });
    const created = await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: { name: "Welcome", trigger: { type: "welcome" }, actions: [{ type: "award_points", points: 20 }] },
    });
    expect(created.status).toBe(201);
    // The stuck member's welcome cannot even be recorded (its occurrence insert is refused).
    const externalId = uniqueKey("stuck");
    await refuseWrites("campaign_occurrences", { externalId });
    const stuck = await newMember(p, { externalId });
    const next = await newMember(p);
    const eventOf = async (memberId: string) =>
      (
        await sql("SELECT dispatched_at, dispatch_attempts FROM outbox_events WHERE member_id = ? AND type = 'member.created'", [memberId])
      )[0];

    // Other test files' crons may consume these events too; the end state is the same.
    for (let run = 0; run < MAX_DISPATCH_ATTEMPTS + 1 && (await eventOf(stuck.id)).dispatched_at === null; run++)
      await consumeOutboxEvents(testEnv, new Date(), 500);
    const awarded = await sql("SELECT outcome FROM campaign_occurrences WHERE campaign_id = ? AND member_id = ?", [
      created.body.id,
      next.id,
    ]);
    expect(awarded).toEqual([expect.objectContaining({ outcome: "awarded" })]);
    expect((await ledgerSum(next.id)).sum).toBe(20);
    expect(await eventOf(next.id)).toMatchObject({ dispatch_attempts: 0 });
    expect((await eventOf(next.id)).dispatched_at).not.toBeNull();
    // The stuck event was retried, then skipped once it had failed MAX_DISPATCH_ATTEMPTS times.
    const skipped = await eventOf(stuck.id);
    expect(skipped.dispatched_at).not.toBeNull();
    expect(Number(skipped.dispatch_attempts)).toBe(MAX_DISPATCH_ATTEMPTS);
    expect(await sql("SELECT 1 FROM campaign_occurrences WHERE member_id = ?", [stuck.id])).toEqual([]);
  });
});
