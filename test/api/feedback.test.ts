import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLoyaltyClient } from "../../src/client";
import { call, db, ledgerSum, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

async function memberFeedbackFacts(memberId: string) {
  const r = await db().$client.execute({ sql: "SELECT last_nps, feedback_tags FROM members WHERE id = ?", args: [memberId] });
  return {
    lastNps: r.rows[0].last_nps === null ? null : Number(r.rows[0].last_nps),
    feedbackTags: JSON.parse(String(r.rows[0].feedback_tags)) as string[],
  };
}

async function feedbackRows(memberId: string) {
  const r = await db().$client.execute({ sql: "SELECT id, request_key FROM feedback WHERE member_id = ? ORDER BY id", args: [memberId] });
  return r.rows.map((row) => ({ id: String(row.id), requestKey: row.request_key === null ? null : String(row.request_key) }));
}

/** The ledger writes made for a member's feedback (one per feedback id, at most). */
async function feedbackEarnings(memberId: string) {
  const r = await db().$client.execute({
    sql: "SELECT idempotency_key FROM ledger_requests WHERE member_id = ? AND idempotency_key LIKE 'feedback:%'",
    args: [memberId],
  });
  return r.rows.map((row) => String(row.idempotency_key));
}

/** A program whose surveys (NPS answers included) earn 20 points. */
async function programWithSurveyPoints() {
  const p = await newProgram({ expiryDays: null });
  const rule = await call("POST", "/v1/rules", {
    key: p.keys.admin,
    body: { name: "Survey bonus", trigger: { type: "survey" }, effect: { type: "fixed", points: 20 } },
  });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  return p;
}

const postFeedback = (p: TestProgram, memberId: string, body: unknown, idempotencyKey: string) =>
  call("POST", `/v1/members/${memberId}/feedback`, { key: p.keys.storefront, idempotencyKey, body });

describe("feedback", () => {
  it("records NPS, surveys and reviews, updates the member for segments, earns through the survey/review rules once per feedback", async () => {
    const p = await newProgram({ expiryDays: null });
    const m = await newMember(p);
    // Without rules: recorded, nothing earned.
    const first = await call("POST", `/v1/members/${m.id}/feedback`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "nps", score: 6, tags: ["delivery"] },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ kind: "nps", score: 6, tags: ["delivery"], earning: { pointsEarned: 0 } });
    expect(await memberFeedbackFacts(m.id)).toEqual({ lastNps: 6, feedbackTags: ["delivery"] });

    for (const rule of [
      { name: "Survey bonus", trigger: { type: "survey" }, effect: { type: "fixed", points: 20 } },
      { name: "Review bonus", trigger: { type: "review" }, effect: { type: "fixed", points: 30 }, capPerMember: 30 },
    ]) {
      expect((await call("POST", "/v1/rules", { key: p.keys.admin, body: rule })).status).toBe(201);
    }
    const nps = await call("POST", `/v1/members/${m.id}/feedback`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "nps", score: 10, text: "Great app", tags: ["app", "delivery"] },
    });
    expect(nps.body).toMatchObject({ score: 10, earning: { pointsEarned: 20 } });
    const review = await call("POST", `/v1/members/${m.id}/feedback`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "review", score: 5, text: "Good shoes" },
    });
    expect(review.body).toMatchObject({ kind: "review", earning: { pointsEarned: 30 } });
    // The review rule's per-member cap: a second review earns nothing more.
    const again = await call("POST", `/v1/members/${m.id}/feedback`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "review", score: 4 },
    });
    expect(again.body.earning.pointsEarned).toBe(0);
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 50, balance: 50 });
    // Each award is the ledger's activity operation, idempotent on feedback:<id>.
    const keys = await db().$client.execute({
      sql: "SELECT idempotency_key FROM ledger_requests WHERE member_id = ? ORDER BY created_at",
      args: [m.id],
    });
    expect(keys.rows.map((r) => r.idempotency_key)).toEqual(
      expect.arrayContaining([`feedback:${nps.body.id}`, `feedback:${review.body.id}`]),
    );
    expect(await memberFeedbackFacts(m.id)).toEqual({ lastNps: 10, feedbackTags: ["app", "delivery"] });

    const list = await call("GET", `/v1/members/${m.id}/feedback?limit=2`, { key: p.keys.admin });
    expect(list.body.data.map((f: { id: string }) => f.id)).toEqual([again.body.id, review.body.id]);
    const page2 = await call("GET", `/v1/members/${m.id}/feedback?limit=10&cursor=${list.body.nextCursor}`, { key: p.keys.admin });
    expect(page2.body.data.map((f: { id: string }) => f.id)).toEqual([nps.body.id, first.body.id]);

    // Feedback feeds segments (last NPS, feedback tags).
    const seg = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: {
        name: "Happy about delivery",
        rule: {
          and: [
            { field: "feedbackTags", op: "contains", value: "delivery" },
            { field: "lastNps", op: "gte", value: 9 },
          ],
        },
      },
    });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    await call("POST", `/v1/segments/${seg.body.id}/recompute`, { key: p.keys.admin });
    const inSeg = await call("GET", `/v1/segments/${seg.body.id}/members`, { key: p.keys.admin });
    expect(inSeg.body.data.map((x: { memberId?: string; id?: string }) => x.memberId ?? x.id)).toEqual([m.id]);

    // NPS per program in the KPIs: answers 6 and 10 → one detractor, one promoter → 0.
    const kpis = await call("GET", "/v1/kpis/today", { key: p.keys.admin });
    expect(kpis.body.figures.nps).toEqual({ score: 0, responses: 2, promoters: 1, passives: 0, detractors: 1 });
  });

  it("merges concurrent feedbacks' tags on the member without losing any, newest first", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    expect((await postFeedback(p, m.id, { kind: "review", score: 4, tags: ["delivery", "price"] }, uniqueKey("fb"))).status).toBe(201);
    const tags = ["app", "staff", "stock", "returns", "price"];
    const results = await Promise.all(tags.map((tag) => postFeedback(p, m.id, { kind: "review", score: 5, tags: [tag] }, uniqueKey("fb"))));
    expect(results.map((r) => r.status)).toEqual(tags.map(() => 201));
    const { feedbackTags } = await memberFeedbackFacts(m.id);
    expect([...feedbackTags].sort()).toEqual(["app", "delivery", "price", "returns", "staff", "stock"]);
    // The first feedback's tags are the oldest: after every newer one ("price" came again, so it moved up).
    expect(feedbackTags.indexOf("delivery")).toBe(feedbackTags.length - 1);
    expect(feedbackTags.indexOf("price")).toBeLessThan(feedbackTags.indexOf("delivery"));
  });

  it("rejects bad feedback with 4xx", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const post = (body: unknown, key = p.keys.storefront, memberId = m.id) =>
      call("POST", `/v1/members/${memberId}/feedback`, { key, body, idempotencyKey: uniqueKey("fb") });
    for (const body of [
      { kind: "nps" },
      { kind: "nps", score: 11 },
      { kind: "nps", score: 7.5 },
      { kind: "review", score: 0 },
      { kind: "survey" },
      { kind: "rant", text: "x" },
      { kind: "survey", text: "x", extra: 1 },
    ]) {
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

  describe("idempotency (Idempotency-Key)", () => {
    it("a retry with the same key answers the original feedback and earning, records nothing and earns once", async () => {
      const p = await programWithSurveyPoints();
      const m = await newMember(p);
      const key = uniqueKey("fb");
      const body = { kind: "nps", score: 9, text: "Quick delivery", tags: ["delivery"] };
      const first = await postFeedback(p, m.id, body, key);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.headers.get("idempotent-replayed")).toBe("false");
      expect(first.body).toMatchObject({ kind: "nps", score: 9, earning: { pointsEarned: 20 } });

      // Another answer in between: the retry must not put the older NPS back on the member.
      expect((await postFeedback(p, m.id, { kind: "nps", score: 3, tags: ["price"] }, uniqueKey("fb"))).status).toBe(201);
      const retry = await postFeedback(p, m.id, body, key);
      expect(retry.status).toBe(201);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.body).toEqual(first.body);

      expect((await feedbackRows(m.id)).filter((r) => r.requestKey === key)).toEqual([{ id: first.body.id, requestKey: key }]);
      expect(await feedbackRows(m.id)).toHaveLength(2);
      expect(await memberFeedbackFacts(m.id)).toEqual({ lastNps: 3, feedbackTags: ["price", "delivery"] });
      // 20 for each of the two answers, the retried one counted once.
      expect(await ledgerSum(m.id)).toMatchObject({ sum: 40, balance: 40 });
      expect((await feedbackEarnings(m.id)).filter((k) => k === `feedback:${first.body.id}`)).toHaveLength(1);

      // Keys are per program: the same key in another program is a new request there.
      const other = await programWithSurveyPoints();
      const otherMember = await newMember(other);
      const elsewhere = await postFeedback(other, otherMember.id, body, key);
      expect(elsewhere.status).toBe(201);
      expect(elsewhere.headers.get("idempotent-replayed")).toBe("false");
      expect(elsewhere.body.id).not.toBe(first.body.id);
    });

    it("the same key with a different body or for another member is 409 idempotency_conflict and writes nothing", async () => {
      const p = await programWithSurveyPoints();
      const m = await newMember(p);
      const m2 = await newMember(p);
      const key = uniqueKey("fb");
      const first = await postFeedback(p, m.id, { kind: "nps", score: 9 }, key);
      expect(first.status).toBe(201);
      for (const [memberId, body] of [
        [m.id, { kind: "nps", score: 10 }],
        [m.id, { kind: "nps", score: 9, text: "and a comment" }],
        [m.id, { kind: "survey", score: 9 }],
        [m2.id, { kind: "nps", score: 9 }],
      ] as const) {
        const res = await postFeedback(p, memberId, body, key);
        expect(res.status, JSON.stringify(body)).toBe(409);
        expect(res.body.error.code).toBe("idempotency_conflict");
      }
      expect(await feedbackRows(m.id)).toEqual([{ id: first.body.id, requestKey: key }]);
      expect(await feedbackRows(m2.id)).toEqual([]);
      expect(await memberFeedbackFacts(m.id)).toMatchObject({ lastNps: 9 });
      expect(await ledgerSum(m.id)).toMatchObject({ sum: 20, balance: 20 });
      expect(await ledgerSum(m2.id)).toMatchObject({ sum: 0, balance: 0 });
    });

    it("requires the Idempotency-Key header (400 invalid_request), and replays a recorded request even after the member was blocked", async () => {
      const p = await newProgram();
      const m = await newMember(p);
      for (const headers of [{}, { "idempotency-key": "" }, { "idempotency-key": "k".repeat(201) }] as Record<string, string>[]) {
        const res = await call("POST", `/v1/members/${m.id}/feedback`, {
          key: p.keys.storefront,
          headers,
          body: { kind: "nps", score: 8 },
        });
        expect(res.status, JSON.stringify(headers)).toBe(400);
        expect(res.body.error.code).toBe("invalid_request");
      }
      expect(await feedbackRows(m.id)).toEqual([]);

      const key = uniqueKey("fb");
      const first = await postFeedback(p, m.id, { kind: "nps", score: 8 }, key);
      expect(first.status).toBe(201);
      await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { status: "blocked" } });
      // The retry of what was recorded gets its original answer; anything new is refused.
      const retry = await postFeedback(p, m.id, { kind: "nps", score: 8 }, key);
      expect(retry.status).toBe(201);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.body).toEqual(first.body);
      expect((await postFeedback(p, m.id, { kind: "nps", score: 8 }, uniqueKey("fb"))).status).toBe(409);
    });

    it("concurrent duplicates with one key record one row and earn once", async () => {
      const p = await programWithSurveyPoints();
      const m = await newMember(p);
      const key = uniqueKey("fb");
      const body = { kind: "survey", score: 7, tags: ["app"] };
      const results = await Promise.all(Array.from({ length: 5 }, () => postFeedback(p, m.id, body, key)));
      for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(201);
      const ids = new Set(results.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(results.map((r) => r.headers.get("idempotent-replayed")).sort()).toEqual(["false", "true", "true", "true", "true"]);
      for (const r of results) expect(r.body).toEqual(results[0].body);
      expect(results[0].body.earning).toEqual({ pointsEarned: 20 });
      expect(await feedbackRows(m.id)).toEqual([{ id: [...ids][0], requestKey: key }]);
      expect(await feedbackEarnings(m.id)).toEqual([`feedback:${[...ids][0]}`]);
      expect(await ledgerSum(m.id)).toMatchObject({ sum: 20, balance: 20 });
    });

    it("the typed client sends a key for feedback, so its retry after a lost answer is recorded once", async () => {
      const p = await programWithSurveyPoints();
      const m = await newMember(p);
      const worker = (exports as unknown as { default: Fetcher }).default;
      let calls = 0;
      // The request reaches the Worker and commits, but the first answer never arrives.
      const lossy = async (input: string, init: RequestInit) => {
        const res = await worker.fetch(input, init);
        if (++calls === 1) throw new TypeError("socket hang up");
        return res;
      };
      const store = createLoyaltyClient({ baseUrl: "http://loyalty.test", apiKey: p.keys.storefront, fetch: lossy, retries: 2 });
      const result = await store.members.feedback(m.id, { kind: "nps", score: 10 });
      expect(calls).toBe(2);
      expect(result).toMatchObject({ score: 10, earning: { pointsEarned: 20 } });
      expect(await feedbackRows(m.id)).toEqual([{ id: result.id, requestKey: expect.stringMatching(/^feedback:/) }]);
      expect(await ledgerSum(m.id)).toMatchObject({ sum: 20, balance: 20 });
      // Separate calls are separate answers (each gets its own key).
      const second = await store.members.feedback(m.id, { kind: "nps", score: 10 });
      expect(second.id).not.toBe(result.id);
    });
  });
});
