import { describe, expect, it } from "vitest";
import { loadTiers } from "../../src/services/tiers/ladder";
import { requalifyProgram } from "../../src/services/tiers/requalify";
import { accrue, call, db, newMember, newProgram, type TestProgram } from "./helpers";

const DAY = 86_400_000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

async function ladder(p: TestProgram) {
  const ids: Record<string, string> = {};
  for (const t of [
    { name: "Bronze", rank: 0, qualification: { windowDays: 30 } },
    { name: "Silver", rank: 1, qualification: { windowDays: 30, minSpend: 10_000 } },
    // Thresholds a member could reach, but invite-only: only an assignment gets there.
    { name: "Gold", rank: 2, qualification: { windowDays: 30, minSpend: 20_000 }, inviteOnly: true },
    { name: "Platinum", rank: 3, qualification: { windowDays: 30, minSpend: 50_000 } },
  ]) {
    const res = await call("POST", "/v1/tiers", { key: p.keys.admin, body: t });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[t.name] = res.body.id;
  }
  return ids;
}

const tierOf = async (p: TestProgram, memberId: string) => (await call("GET", `/v1/members/${memberId}/tier`, { key: p.keys.admin })).body;
const requalify = async (p: TestProgram, daysAhead: number) =>
  requalifyProgram(db(), p.programId, await loadTiers(db(), p.programId), new Date(Date.now() + daysAhead * DAY), 100);
const assign = (p: TestProgram, memberId: string, body: unknown, key = p.keys.admin) =>
  call("POST", `/v1/members/${memberId}/tier`, { key, body });

describe("tier assignment", () => {
  it("invite-only tiers are reached only by assignment; the assignment is audited, in the history and emits tier.changed", async () => {
    const p = await newProgram();
    const tiers = await ladder(p);
    const m = await newMember(p);
    expect((await accrue(p, m.id, 30_000)).status).toBe(201);
    // 300.00 spent would reach Gold's threshold, but Gold is invite-only.
    expect((await tierOf(p, m.id)).current.name).toBe("Silver");
    expect((await requalify(p, 0)).upgrade).toBe(0);
    expect((await tierOf(p, m.id)).current.name).toBe("Silver");

    const until = dateIn(60);
    const res = await assign(p, m.id, { tierId: tiers.Gold, until, reason: "Status match: Gold at Example Air" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      memberId: m.id,
      tierId: tiers.Gold,
      tierName: "Gold",
      change: "upgrade",
      reason: "Status match: Gold at Example Air",
    });
    // The end of `until` in the program's zone (UTC here).
    expect(res.body.securedUntil).toBe(new Date(Date.parse(`${until}T00:00:00Z`) + DAY).toISOString());
    const view = await tierOf(p, m.id);
    expect(view.current.name).toBe("Gold");
    expect(view.assigned).toEqual({ tierId: tiers.Gold, until: res.body.securedUntil });
    expect((await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin })).body.tier).toMatchObject({ id: tiers.Gold });

    const audit = await call("GET", `/v1/audit?entityType=member&entityId=${m.id}`, { key: p.keys.admin });
    const row = audit.body.data.find((a: { action: string }) => a.action === "member.tier_assigned");
    expect(row).toMatchObject({
      before: { tierId: tiers.Silver },
      after: { tierId: tiers.Gold, reason: "Status match: Gold at Example Air" },
    });
    const history = await db().$client.execute({
      sql: "SELECT from_tier_id, to_tier_id, change, reason FROM tier_history WHERE member_id = ? ORDER BY created_at, rowid",
      args: [m.id],
    });
    expect(history.rows.at(-1)).toMatchObject({ from_tier_id: tiers.Silver, to_tier_id: tiers.Gold, change: "assignment" });
    const events = await db().$client.execute({
      sql: "SELECT payload FROM outbox_events WHERE member_id = ? AND type = 'tier.changed' ORDER BY created_at, rowid",
      args: [m.id],
    });
    expect(JSON.parse(String(events.rows.at(-1)?.payload))).toMatchObject({
      memberId: m.id,
      from: tiers.Silver,
      to: tiers.Gold,
      toName: "Gold",
      change: "upgrade",
      assigned: true,
    });

    // Assigning the same tier again moves only its end date: no event.
    const again = await assign(p, m.id, { tierId: tiers.Gold, until: dateIn(90), reason: "Extended" });
    expect(again.body).toMatchObject({ change: "unchanged", tierName: "Gold" });
    const after = await db().$client.execute({
      sql: "SELECT count(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'tier.changed'",
      args: [m.id],
    });
    expect(Number(after.rows[0].n)).toBe(events.rows.length);
    expect((await tierOf(p, m.id)).assigned.until).toBe(again.body.securedUntil);
  });

  it("requalification never moves a member below an assigned tier before its end date, and does afterwards", async () => {
    const p = await newProgram();
    const tiers = await ladder(p);
    const m = await newMember(p);
    expect((await assign(p, m.id, { tierId: tiers.Gold, until: dateIn(90), reason: "Invitation" })).status).toBe(200);
    // No purchases at all: still Gold while the assignment lasts.
    await requalify(p, 40);
    expect((await tierOf(p, m.id)).current.name).toBe("Gold");

    // A purchase moves them above it (Platinum, secured 30 days) …
    expect((await accrue(p, m.id, 60_000)).status).toBe(201);
    expect((await tierOf(p, m.id)).current.name).toBe("Platinum");
    // … and when Platinum lapses (the purchase has left the 30-day window) they fall back to Gold, not Bronze.
    await requalify(p, 45);
    const member = await db().$client.execute({ sql: "SELECT tier_id, tier_secured_until FROM members WHERE id = ?", args: [m.id] });
    expect(member.rows[0].tier_id).toBe(tiers.Gold);
    await requalify(p, 80);
    expect((await db().$client.execute({ sql: "SELECT tier_id FROM members WHERE id = ?", args: [m.id] })).rows[0].tier_id).toBe(
      tiers.Gold,
    );

    // After the end date the tier is requalified as any other: down to what the figures support.
    await requalify(p, 100);
    expect((await db().$client.execute({ sql: "SELECT tier_id FROM members WHERE id = ?", args: [m.id] })).rows[0].tier_id).toBe(
      tiers.Bronze,
    );
  });

  it("validates the assignment, refuses an invite-only entry tier, and is admin-only and per program", async () => {
    const p = await newProgram();
    const tiers = await ladder(p);
    const m = await newMember(p);
    const ok = { tierId: tiers.Gold, until: dateIn(30), reason: "Goodwill" };
    for (const [body, status] of [
      [{ ...ok, tierId: "tier_unknown" }, 404],
      [{ ...ok, until: dateIn(-2) }, 400],
      [{ ...ok, until: dateIn(9000) }, 400],
      [{ ...ok, until: "31/12/2027" }, 400],
      [{ ...ok, reason: " " }, 400],
      [{ tierId: tiers.Gold, until: dateIn(30) }, 400],
      [{ ...ok, extra: 1 }, 400],
    ] as const) {
      const res = await assign(p, m.id, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
    }
    expect((await assign(p, "mem_unknown", ok)).status).toBe(404);
    for (const key of [p.keys.storefront, p.keys.partner]) {
      const res = await assign(p, m.id, ok, key);
      expect(res.status).toBe(403);
    }
    const other = await newProgram();
    const otherTiers = await ladder(other);
    expect((await assign(other, m.id, { ...ok, tierId: otherTiers.Gold })).status).toBe(404);
    expect((await assign(p, m.id, { ...ok, tierId: otherTiers.Gold })).status).toBe(404);
    expect((await tierOf(p, m.id)).current.name).toBe("Bronze");

    const entry = await call("PATCH", `/v1/tiers/${tiers.Bronze}`, { key: p.keys.admin, body: { inviteOnly: true } });
    expect(entry.status).toBe(400);
    // The shopper sees an invite-only next rung as such.
    expect((await tierOf(p, m.id)).next.name).toBe("Silver");
  });
});
