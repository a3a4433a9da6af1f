import { describe, expect, it } from "vitest";
import "../../src/features";
import { call, db, ledgerSum, newMember, newProgram } from "./helpers";

async function memberFeedbackFacts(memberId: string) {
  const r = await db().$client.execute({ sql: "SELECT last_nps, feedback_tags FROM members WHERE id = ?", args: [memberId] });
  return { lastNps: r.rows[0].last_nps === null ? null : Number(r.rows[0].last_nps), feedbackTags: JSON.parse(String(r.rows[0].feedback_tags)) as string[] };
}

describe("feedback", () => {
  it("records NPS, surveys and reviews, updates the member for segments, earns through the survey/review rules once per feedback", async () => {
    const p = await newProgram({ expiryDays: null });
    const m = await newMember(p);
    // Without rules: recorded, nothing earned.
    const first = await call("POST", `/v1/members/${m.id}/feedback`, { key: p.keys.storefront, body: { kind: "nps", score: 6, tags: ["delivery"] } });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ kind: "nps", score: 6, tags: ["delivery"], earning: { pointsEarned: 0 } });
    expect(await memberFeedbackFacts(m.id)).toEqual({ lastNps: 6, feedbackTags: ["delivery"] });

    for (const rule of [
      { name: "Survey bonus", trigger: { type: "survey" }, effect: { type: "fixed", points: 20 } },
      { name: "Review bonus", trigger: { type: "review" }, effect: { type: "fixed", points: 30 }, capPerMember: 30 },
    ]) {
      expect((await call("POST", "/v1/rules", { key: p.keys.admin, body: rule })).status).toBe(201);
    }
    const nps = await call("POST", `/v1/members/${m.id}/feedback`, { key: p.keys.storefront, body: { kind: "nps", score: 10, text: "Great app", tags: ["app", "delivery"] } });
    expect(nps.body).toMatchObject({ score: 10, earning: { pointsEarned: 20 } });
    const review = await call("POST", `/v1/members/${m.id}/feedback`, { key: p.keys.admin, body: { kind: "review", score: 5, text: "Good shoes" } });
    expect(review.body).toMatchObject({ kind: "review", earning: { pointsEarned: 30 } });
    // The review rule's per-member cap: a second review earns nothing more.
    const again = await call("POST", `/v1/members/${m.id}/feedback`, { key: p.keys.admin, body: { kind: "review", score: 4 } });
    expect(again.body.earning.pointsEarned).toBe(0);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 50, balance: 50 });
    // Each award is the ledger's activity operation, idempotent on feedback:<id>.
    const keys = await db().$client.execute({ sql: "SELECT idempotency_key FROM ledger_requests WHERE member_id = ? ORDER BY created_at", args: [m.id] });
    expect(keys.rows.map((r) => r.idempotency_key)).toEqual(expect.arrayContaining([`feedback:${nps.body.id}`, `feedback:${review.body.id}`]));
    expect(await memberFeedbackFacts(m.id)).toEqual({ lastNps: 10, feedbackTags: ["app", "delivery"] });

    const list = await call("GET", `/v1/members/${m.id}/feedback?limit=2`, { key: p.keys.admin });
    expect(list.body.data.map((f: { id: string }) => f.id)).toEqual([again.body.id, review.body.id]);
    const page2 = await call("GET", `/v1/members/${m.id}/feedback?limit=10&cursor=${list.body.nextCursor}`, { key: p.keys.admin });
    expect(page2.body.data.map((f: { id: string }) => f.id)).toEqual([nps.body.id, first.body.id]);

    // Feedback feeds segments (last NPS, feedback tags).
    const seg = await call("POST", "/v1/segments", { key: p.keys.admin, body: { name: "Happy about delivery", rule: { and: [{ field: "feedbackTags", op: "contains", value: "delivery" }, { field: "lastNps", op: "gte", value: 9 }] } } });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin });
    const inSeg = await call("GET", `/v1/segments/${seg.body.id}/members`, { key: p.keys.admin });
    expect(inSeg.body.data.map((x: { memberId?: string; id?: string }) => x.memberId ?? x.id)).toEqual([m.id]);

    // NPS per program in the KPIs: answers 6 and 10 → one detractor, one promoter → 0.
    const kpis = await call("GET", "/v1/kpis/today", { key: p.keys.admin });
    expect(kpis.body.figures.nps).toEqual({ score: 0, responses: 2, promoters: 1, passives: 0, detractors: 1 });
  });

  it("rejects bad feedback with 4xx", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const post = (body: unknown, key = p.keys.storefront, memberId = m.id) => call("POST", `/v1/members/${memberId}/feedback`, { key, body });
    for (const body of [{ kind: "nps" }, { kind: "nps", score: 11 }, { kind: "nps", score: 7.5 }, { kind: "review", score: 0 }, { kind: "survey" }, { kind: "rant", text: "x" }, { kind: "survey", text: "x", extra: 1 }]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect((await post({ kind: "nps", score: 5 }, p.keys.partner)).status).toBe(403);
    expect((await post({ kind: "nps", score: 5 }, p.keys.storefront, "mem_nope")).status).toBe(404);
    const other = await newProgram();
    expect((await post({ kind: "nps", score: 5 }, other.keys.storefront)).status).toBe(404);
    await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { status: "blocked" } });
    const blocked = await post({ kind: "nps", score: 5 });
    expect(blocked.status).toBe(409);
    expect((await call("GET", `/v1/members/${m.id}/feedback`, { key: p.keys.storefront })).status).toBe(403);
  });
});
