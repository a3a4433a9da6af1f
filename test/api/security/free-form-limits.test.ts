import { describe, expect, it } from "vitest";
import { FREE_FORM_LIMITS as L } from "../../../src/domain/members/free-form";
import { call, db, newMember, newProgram, partnerSignature, type TestProgram, uniqueKey } from "../helpers";

async function postSigned(p: TestProgram, payload: unknown) {
  const raw = JSON.stringify(payload);
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) },
  });
}

const manyAttributes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const manyTags = (n: number, prefix = "t") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A 400 invalid_request whose message names the limit. */
function expectLimit(res: { status: number; body: any }, message: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("invalid_request");
  expect(JSON.stringify(res.body.error)).toContain(message);
}

async function ledgerMetadataSize(memberId: string) {
  const r = await db().$client.execute({
    sql: "SELECT COALESCE(MAX(length(metadata)), 0) AS n, COUNT(*) AS c FROM ledger_entries WHERE member_id = ?",
    args: [memberId],
  });
  return { longest: Number(r.rows[0].n), entries: Number(r.rows[0].c) };
}

describe("activity attributes are bounded on every path", () => {
  it("API: count, key length and value length each answer 400 naming the limit; nothing is written", async () => {
    const p = await newProgram();
    await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: { name: "Visit", trigger: { type: "activity", kind: "visit" }, effect: { type: "fixed", points: 5 } },
    });
    const m = await newMember(p);
    const activity = (attributes: Record<string, unknown>) =>
      call("POST", `/v1/members/${m.id}/activities`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey(),
        body: { kind: "visit", attributes },
      });

    expectLimit(await activity(manyAttributes(L.activityAttributes + 1)), `at most ${L.activityAttributes} attributes`);
    expectLimit(
      await activity({ ["k".repeat(L.attributeKeyLength + 1)]: 1 }),
      `attribute keys are 1 to ${L.attributeKeyLength} characters`,
    );
    expectLimit(
      await activity({ note: "x".repeat(L.attributeValueLength + 1) }),
      `attribute values are at most ${L.attributeValueLength} characters`,
    );
    // The report's case: a megabyte in one attribute never reaches ledger metadata.
    const huge = await activity({ note: "x".repeat(1_000_000) });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    expect(await ledgerMetadataSize(m.id)).toEqual({ longest: 0, entries: 0 });

    const ok = await activity({ ...manyAttributes(L.activityAttributes - 1), note: "x".repeat(L.attributeValueLength) });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it("partner activity events: the event is rejected with the limit, the rest of the batch applies", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("cust");
    const res = await postSigned(p, {
      events: [
        { eventId: uniqueKey("e"), type: "activity", externalId, kind: "visit", attributes: manyAttributes(L.activityAttributes + 1) },
        {
          eventId: uniqueKey("e"),
          type: "activity",
          externalId,
          kind: "visit",
          attributes: { note: "x".repeat(L.attributeValueLength + 1) },
        },
        { eventId: uniqueKey("e"), type: "activity", externalId, kind: "visit", attributes: { note: "fine" } },
      ],
    });
    expect(res.status).toBe(200);
    const [tooMany, tooLong, fine] = res.body.results;
    expect(tooMany).toMatchObject({ status: 400, error: { code: "invalid_request" } });
    expect(tooMany.error.message).toContain(`at most ${L.activityAttributes} attributes`);
    expect(tooLong.error.message).toContain(`attribute values are at most ${L.attributeValueLength} characters`);
    expect(fine.status).toBe(201);
  });
});

describe("member attributes and tags are bounded, after merging too", () => {
  it("registration: too many attributes or tags, or a too-long tag, is 400 naming the limit", async () => {
    const p = await newProgram();
    const register = (extra: Record<string, unknown>) =>
      call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: uniqueKey("cust"), ...extra } });
    expectLimit(await register({ attributes: manyAttributes(L.memberAttributes + 1) }), `at most ${L.memberAttributes} attributes`);
    expectLimit(await register({ tags: manyTags(L.memberTags + 1) }), `at most ${L.memberTags} tags`);
    expectLimit(await register({ tags: ["x".repeat(L.tagLength + 1)] }), `a tag is at most ${L.tagLength} characters`);
  });

  it("PATCH merges attributes up to the cap, then 400; removing makes room again", async () => {
    const p = await newProgram();
    const m = await newMember(p, { attributes: manyAttributes(L.memberAttributes - 1) });
    const patch = (attributes: Record<string, unknown>) =>
      call("PATCH", `/v1/members/${m.id}`, { key: p.keys.storefront, body: { attributes } });
    expect((await patch({ last: 1 })).status).toBe(200);
    expectLimit(await patch({ oneTooMany: 1 }), `A member has at most ${L.memberAttributes} attributes`);
    expect((await patch({ k0: null, oneTooMany: 1 })).body.attributes.oneTooMany).toBe(1);
  });

  it("tags merge up to the cap (in SQL, so concurrent adds cannot pass it), then 400", async () => {
    const p = await newProgram();
    const m = await newMember(p, { tags: manyTags(L.memberTags - 2) });
    const addTags = (add: string[], remove: string[] = []) =>
      call("POST", `/v1/members/${m.id}/tags`, { key: p.keys.storefront, body: { add, remove } });
    expect((await addTags(["a", "t0"])).body.tags).toHaveLength(L.memberTags - 1);
    expectLimit(await addTags(["b", "c"]), `A member has at most ${L.memberTags} tags`);
    // Concurrent adds, each within the cap alone: together they stop at it.
    const results = await Promise.all(["x", "y", "z"].map((t) => addTags([t])));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    const after = await call("GET", `/v1/members/${m.id}`, { key: p.keys.admin });
    expect(after.body.tags).toHaveLength(L.memberTags);
    expectLimit(await addTags(["x".repeat(L.tagLength + 1)]), `a tag is at most ${L.tagLength} characters`);
    // Removing and adding in one change keeps the count: allowed at the cap.
    expect((await addTags(["swap"], ["a"])).status).toBe(200);
  });

  it("partner member.upsert of an existing member: tags past the cap are 400 for that event", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("cust");
    expect((await postSigned(p, { eventId: uniqueKey("e"), type: "member.upsert", externalId, tags: manyTags(L.memberTags) })).status).toBe(
      201,
    );
    const res = await postSigned(p, { eventId: uniqueKey("e"), type: "member.upsert", externalId, tags: ["one-more"] });
    expectLimit(res, `A member has at most ${L.memberTags} tags`);
  });

  it("feedback tags: each answer is capped, and the member's merged feedback tags keep the newest up to the cap", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const feedback = (tags: string[]) =>
      call("POST", `/v1/members/${m.id}/feedback`, { key: p.keys.storefront, idempotencyKey: uniqueKey(), body: { kind: "survey", tags } });
    expectLimit(await feedback(manyTags(L.feedbackTags + 1)), `at most ${L.feedbackTags} tags`);
    for (let round = 0; round < 3; round++) expect((await feedback(manyTags(L.feedbackTags, `r${round}-`))).status).toBe(201);
    const r = await db().$client.execute({ sql: "SELECT feedback_tags FROM members WHERE id = ?", args: [m.id] });
    const tags = JSON.parse(String(r.rows[0].feedback_tags)) as string[];
    expect(tags).toHaveLength(L.memberTags);
    expect(tags.slice(0, L.feedbackTags)).toEqual(manyTags(L.feedbackTags, "r2-"));
  });
});
