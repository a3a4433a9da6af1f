import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { members } from "../../schema";
import { evaluateSegmentRule, memberFactsFromRow, parseSegmentRule } from "../../src/domain/segments/rule";
import { accrue, call, db, newMember, newProgram, type TestProgram } from "./helpers";

type Segment = { id: string; name: string; description: string | null; rule: unknown; memberCount: number; computedAt: string | null };

const create = (p: TestProgram, body: unknown) => call("POST", "/v1/segments", { key: p.keys.admin, body });

/** Members the rule selects, evaluated here in JS over the member rows (the SQL path must agree). */
async function expectedMembers(p: TestProgram, rule: unknown, now: string): Promise<string[]> {
  const parsed = parseSegmentRule(rule);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const rows = await db().select().from(members).where(eq(members.programId, p.programId));
  return rows
    .filter((r) => r.status !== "erased" && evaluateSegmentRule(parsed.rule, memberFactsFromRow(r, { now })))
    .map((r) => r.id)
    .sort();
}

/** Every member of a segment, following nextCursor with a small page size. */
async function allPages(p: TestProgram, segmentId: string, limit: number) {
  const seen: Array<{ memberId: string; addedAt: string }> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await call("GET", `/v1/segments/${segmentId}/members?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      key: p.keys.admin,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    seen.push(...res.body.data);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { seen, pages };
}

describe("custom segments", () => {
  let p: TestProgram;
  let people: Array<{ id: string; vip: boolean; city: string }>;

  beforeAll(async () => {
    p = await newProgram({ name: "Segments program" });
    people = [];
    for (let i = 0; i < 11; i++) {
      const vip = i % 2 === 0;
      const city = i % 3 === 0 ? "Lisbon" : "Porto";
      const m = await newMember(p, {
        tags: vip ? ["vip", "newsletter"] : ["newsletter"],
        attributes: { city, visits: i, ...(i % 5 === 1 ? { "ok?'key": "yes" } : {}) },
        consent: { email: i % 4 === 0 },
      });
      people.push({ id: m.id, vip, city });
      for (let k = 0; k < i % 4; k++) expect((await accrue(p, m.id, 2_500 + 1_000 * i)).status).toBe(201);
    }
  });

  it("rejects invalid definitions with the rule's own messages", async () => {
    const unknownField = await create(p, { name: "Bad", rule: { field: "shoeSize", op: "eq", value: 42 } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.code).toBe("invalid_request");
    expect(unknownField.body.error.message).toMatch(/^Invalid segment rule: /);
    expect(unknownField.body.error.details.errors.join(" ")).toMatch(/shoeSize/);
    expect(unknownField.body.error.requestId).toBeTruthy();

    const wrongOp = await create(p, {
      name: "Bad",
      rule: {
        and: [
          { field: "tags", op: "gt", value: 3 },
          { field: "stage", op: "eq", value: "sleepy" },
        ],
      },
    });
    expect(wrongOp.status).toBe(400);
    expect(wrongOp.body.error.details.errors.length).toBeGreaterThanOrEqual(1);

    for (const body of [
      { name: "No rule" },
      { name: "Null rule", rule: null },
      { rule: { field: "tags", op: "contains", value: "vip" } },
      { name: "", rule: { field: "orders", op: "gte", value: 1 } },
      { name: "Extra", rule: { field: "orders", op: "gte", value: 1 }, colour: "red" },
    ]) {
      const res = await create(p, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    const malformed = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(
      (await create({ ...p, keys: { ...p.keys, admin: p.keys.storefront } }, { name: "x", rule: { field: "orders", op: "gte", value: 1 } }))
        .status,
    ).toBe(403);
    expect((await call("GET", "/v1/segments", { key: p.keys.partner })).status).toBe(403);
    expect((await call("GET", "/v1/segments")).status).toBe(401);
    expect((await call("GET", "/v1/segments", { key: p.keys.admin })).body.data).toEqual([]);
  });

  it("creates segments with membership computed set-based, the same members the JS evaluator picks", async () => {
    const rules: Array<[string, unknown]> = [
      ["VIP", { field: "tags", op: "contains", value: "vip" }],
      [
        "Lisbon buyers",
        {
          and: [
            { field: "attributes.city", op: "eq", value: "Lisbon" },
            { field: "orders", op: "gte", value: 1 },
          ],
        },
      ],
      [
        "Not VIP or emailable",
        { or: [{ not: { field: "tags", op: "contains", value: "vip" } }, { field: "consent.email", op: "eq", value: true }] },
      ],
      // A placeholder-like character and a quote inside an attribute key must not confuse the SQL.
      [
        "Odd key",
        {
          and: [
            { field: "attributes.ok?'key", op: "eq", value: "yes" },
            { field: "orders", op: "gte", value: 0 },
          ],
        },
      ],
      [
        "Regulars",
        {
          and: [
            { field: "lifetimeSpend", op: "between", value: [5_000, 1_000_000] },
            { field: "attributes.visits", op: "gt", value: 2 },
            { field: "stage", op: "in", value: ["new", "active"] },
          ],
        },
      ],
    ];
    const created: Segment[] = [];
    for (const [name, rule] of rules) {
      const res = await create(p, { name, description: `${name} audience`, rule });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name, description: `${name} audience`, rule });
      expect(res.body.computedAt).toBeTruthy();
      const expected = await expectedMembers(p, rule, res.body.computedAt);
      expect(res.body.memberCount).toBe(expected.length);
      const { seen } = await allPages(p, res.body.id, 50);
      expect(seen.map((s) => s.memberId)).toEqual(expected);
      created.push(res.body);
    }
    expect(created[0].memberCount).toBe(people.filter((x) => x.vip).length);
    expect(created[1].memberCount).toBeGreaterThan(0);
    expect(created[3].memberCount).toBe(2);

    // List with a cursor.
    const first = await call("GET", "/v1/segments?limit=3", { key: p.keys.admin });
    expect(created).toHaveLength(5);
    expect(first.body.data).toHaveLength(3);
    expect(first.body.nextCursor).toBeTruthy();
    const second = await call("GET", `/v1/segments?limit=3&cursor=${first.body.nextCursor}`, { key: p.keys.admin });
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.data, ...second.body.data].map((s: Segment) => s.id).sort()).toEqual(created.map((s) => s.id).sort());
    expect((await call("GET", `/v1/segments/${created[0].id}`, { key: p.keys.admin })).body).toMatchObject({
      id: created[0].id,
      memberCount: created[0].memberCount,
    });
  });

  it("pages through members, recomputes on demand keeping addedAt, and shows segments on the member", async () => {
    const vip = (await call("GET", "/v1/segments?limit=50", { key: p.keys.admin })).body.data.find(
      (s: Segment) => s.name === "VIP",
    ) as Segment;
    const before = await allPages(p, vip.id, 2);
    expect(before.pages).toBe(Math.ceil(vip.memberCount / 2));
    expect(before.seen.map((s) => s.memberId)).toEqual([...before.seen.map((s) => s.memberId)].sort());
    expect(new Set(before.seen.map((s) => s.memberId)).size).toBe(vip.memberCount);
    expect((await call("GET", `/v1/segments/${vip.id}/members?limit=0`, { key: p.keys.admin })).status).toBe(400);

    // One member joins (tagged vip), one leaves (tag removed).
    const joiner = people.find((x) => !x.vip)!;
    const leaver = people.find((x) => x.vip)!;
    expect((await call("POST", `/v1/members/${joiner.id}/tags`, { key: p.keys.admin, body: { add: ["vip"] } })).status).toBe(200);
    expect((await call("POST", `/v1/members/${leaver.id}/tags`, { key: p.keys.admin, body: { remove: ["vip"] } })).status).toBe(200);
    const recomputed = await call("POST", `/v1/segments/${vip.id}/recompute`, { key: p.keys.admin });
    expect(recomputed.status).toBe(200);
    expect(recomputed.body.memberCount).toBe(vip.memberCount);
    expect(recomputed.body.computedAt >= vip.computedAt!).toBe(true);
    const after = await allPages(p, vip.id, 4);
    const ids = after.seen.map((s) => s.memberId);
    expect(ids).toContain(joiner.id);
    expect(ids).not.toContain(leaver.id);
    expect(ids).toEqual(await expectedMembers(p, vip.rule, recomputed.body.computedAt));
    // Members who stayed keep the date they joined; the newcomer joined at this recompute.
    for (const s of after.seen) {
      const old = before.seen.find((b) => b.memberId === s.memberId);
      expect(s.addedAt).toBe(old ? old.addedAt : recomputed.body.computedAt);
    }

    // The member lookup lists the segments the member is in.
    const view = await call("GET", `/v1/members/${joiner.id}`, { key: p.keys.storefront });
    expect(view.body.analytics.segments).toContain(vip.id);
    const gone = await call("GET", `/v1/members/${leaver.id}`, { key: p.keys.storefront });
    expect(gone.body.analytics.segments).not.toContain(vip.id);
  });

  it("updates, recomputes with the analytics run, deletes, audits, and keeps programs apart", async () => {
    const seg = await create(p, { name: "Porto", rule: { field: "attributes.city", op: "eq", value: "Porto" } });
    expect(seg.status).toBe(201);
    const id = seg.body.id as string;

    const invalid = await call("PATCH", `/v1/segments/${id}`, {
      key: p.keys.admin,
      body: { rule: { field: "attributes.city", op: "between", value: "x" } },
    });
    expect(invalid.status).toBe(400);
    expect((await call("PATCH", `/v1/segments/${id}`, { key: p.keys.admin, body: {} })).status).toBe(400);
    expect((await call("GET", `/v1/segments/${id}`, { key: p.keys.admin })).body.rule).toEqual({
      field: "attributes.city",
      op: "eq",
      value: "Porto",
    });

    const lisbon = { field: "attributes.city", op: "eq", value: "Lisbon" };
    const patched = await call("PATCH", `/v1/segments/${id}`, { key: p.keys.admin, body: { name: "Lisbon", rule: lisbon } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Lisbon",
      description: null,
      rule: lisbon,
      memberCount: people.filter((x) => x.city === "Lisbon").length,
    });
    const renamed = await call("PATCH", `/v1/segments/${id}`, { key: p.keys.admin, body: { description: "Capital" } });
    expect(renamed.body).toMatchObject({ name: "Lisbon", description: "Capital", rule: lisbon });

    // A newcomer in Lisbon is picked up by the analytics run (on demand here; the nightly job runs the same pipeline).
    const newcomer = await newMember(p, { attributes: { city: "Lisbon" } });
    const onDemand = await call("POST", "/v1/analytics/recompute", { key: p.keys.admin });
    expect(onDemand.status).toBe(200);
    expect(onDemand.body.segments).toContainEqual({ id, memberCount: patched.body.memberCount + 1, computedAt: onDemand.body.now });
    expect((await call("GET", `/v1/segments/${id}`, { key: p.keys.admin })).body).toMatchObject({
      memberCount: patched.body.memberCount + 1,
      computedAt: onDemand.body.now,
    });

    // Another program cannot see or touch it.
    const other = await newProgram({ name: "Other program" });
    for (const [method, path] of [
      ["GET", `/v1/segments/${id}`],
      ["PATCH", `/v1/segments/${id}`],
      ["DELETE", `/v1/segments/${id}`],
      ["POST", `/v1/segments/${id}/recompute`],
      ["GET", `/v1/segments/${id}/members`],
    ]) {
      const res = await call(method, path, { key: other.keys.admin, body: method === "PATCH" ? { name: "mine" } : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const otherSeg = await create(other, { name: "Everyone", rule: { field: "orders", op: "gte", value: 0 } });
    expect(otherSeg.body.memberCount).toBe(0);

    const deleted = await call("DELETE", `/v1/segments/${id}`, { key: p.keys.admin });
    expect(deleted.status).toBe(204);
    expect((await call("GET", `/v1/segments/${id}`, { key: p.keys.admin })).status).toBe(404);
    expect((await call("DELETE", `/v1/segments/${id}`, { key: p.keys.admin })).status).toBe(404);
    const view = await call("GET", `/v1/members/${newcomer.id}`, { key: p.keys.admin });
    expect(view.body.analytics.segments).not.toContain(id);
    const left = await db().$client.execute({ sql: "SELECT COUNT(*) AS n FROM segment_members WHERE segment_id = ?", args: [id] });
    expect(Number(left.rows[0].n)).toBe(0);

    const audit = await db().$client.execute({
      sql: "SELECT action FROM audit_log WHERE program_id = ? AND entity_id = ? ORDER BY created_at, id",
      args: [p.programId, id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(["segment.create", "segment.update", "segment.update", "segment.delete"]);
  });
});
