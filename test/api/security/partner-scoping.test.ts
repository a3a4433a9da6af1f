import { describe, expect, it } from "vitest";
import { accrue, call, db, newMember, newProgram, partnerSignature, type TestProgram, uniqueKey } from "../helpers";

/** A second (or third) partner of the program: a partner key of its own, as an admin creates it. */
async function partnerKey(p: TestProgram, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: uniqueKey("partner"), scope: "partner", ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; partner: string | null; memberAccess: string };
}

const accrueWith = (key: string, memberId: string, orderId = uniqueKey("order"), amount = 10_000) =>
  call("POST", `/v1/members/${memberId}/accruals`, {
    key,
    idempotencyKey: uniqueKey("acc"),
    body: { orderId, amount, currency: "USD" },
  });

const refundWith = (key: string, orderId: string, amount = 1_000) =>
  call("POST", `/v1/orders/${orderId}/refunds`, { key, idempotencyKey: uniqueKey("rf"), body: { amount } });

/** A signed partner event sent with `key` (the program's signing secret proves the sender, the key names the partner). */
function postEvent(p: TestProgram, key: string, event: Record<string, unknown>) {
  const raw = JSON.stringify({ eventId: uniqueKey("evt"), ...event });
  return call("POST", "/v1/partner/events", {
    key,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) },
  });
}

async function orderSource(orderId: string) {
  const r = await db().$client.execute({
    sql: "SELECT source_scope, source_key_id, source_partner FROM orders WHERE order_id = ?",
    args: [orderId],
  });
  return r.rows[0];
}

describe("partners as separate parties: orders", () => {
  it("records the key and partner that created each order", async () => {
    const p = await newProgram();
    const a = await partnerKey(p, { partner: "acme-fuel" });
    const m = await newMember(p);
    const fromPartner = uniqueKey("order");
    expect((await accrueWith(a.secret, m.id, fromPartner)).status).toBe(201);
    expect(await orderSource(fromPartner)).toMatchObject({ source_scope: "partner", source_key_id: a.id, source_partner: "acme-fuel" });
    const fromStorefront = uniqueKey("order");
    await accrue(p, m.id, 5_000, { orderId: fromStorefront });
    expect(await orderSource(fromStorefront)).toMatchObject({ source_scope: "storefront", source_partner: null });
  });

  it("partner B cannot refund partner A's order, by API or by event; A and an admin can", async () => {
    const p = await newProgram();
    const [a, b] = [await partnerKey(p), await partnerKey(p)];
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    expect((await accrueWith(a.secret, m.id, orderId)).status).toBe(201);

    const byB = await refundWith(b.secret, orderId);
    expect(byB.status).toBe(403);
    expect(byB.body.error.code).toBe("order_of_another_source");
    const eventByB = await postEvent(p, b.secret, { type: "refund", orderId, amount: 1_000 });
    expect(eventByB.status).toBe(403);
    expect(eventByB.body.error.code).toBe("order_of_another_source");
    // Nothing was reversed by the refused attempts.
    const bal = await call("GET", `/v1/members/${m.id}/balance`, { key: p.keys.admin });
    expect(bal.body.total).toBe(100);

    expect((await refundWith(a.secret, orderId)).status).toBe(201);
    expect((await refundWith(p.keys.admin, orderId)).status).toBe(201);
  });

  it("a storefront key cannot refund a partner's order, nor a partner the storefront's", async () => {
    const p = await newProgram();
    const a = await partnerKey(p);
    const m = await newMember(p);
    const partnerOrder = uniqueKey("order");
    await accrueWith(a.secret, m.id, partnerOrder);
    const byStorefront = await refundWith(p.keys.storefront, partnerOrder);
    expect(byStorefront.status).toBe(403);
    expect(byStorefront.body.error.code).toBe("order_of_another_source");

    const storefrontOrder = uniqueKey("order");
    await accrue(p, m.id, 10_000, { orderId: storefrontOrder });
    expect((await refundWith(a.secret, storefrontOrder)).body.error.code).toBe("order_of_another_source");
    expect((await refundWith(p.keys.storefront, storefrontOrder)).status).toBe(201);
  });

  it("a partner's rotated key (same partner) keeps refunding its orders", async () => {
    const p = await newProgram();
    const old = await partnerKey(p, { partner: "pos-vendor" });
    const m = await newMember(p);
    const orderId = uniqueKey("order");
    await accrueWith(old.secret, m.id, orderId);
    await call("DELETE", `/v1/keys/${old.id}`, { key: p.keys.admin });
    const rotated = await partnerKey(p, { partner: "pos-vendor" });
    expect((await refundWith(rotated.secret, orderId)).status).toBe(201);
  });
});

describe("partners as separate parties: members", () => {
  it("a partner key reads only the members its partner touched", async () => {
    const p = await newProgram();
    const [a, b] = [await partnerKey(p), await partnerKey(p)];
    const m = await newMember(p);
    await accrueWith(a.secret, m.id);

    for (const path of [`/v1/members/${m.id}`, `/v1/members/${m.id}/balance`, `/v1/members/${m.id}/ledger`]) {
      expect((await call("GET", path, { key: a.secret })).status, `A ${path}`).toBe(200);
      const byB = await call("GET", path, { key: b.secret });
      expect(byB.status, `B ${path}`).toBe(404);
      expect(byB.body.error.code).toBe("not_found");
    }
    expect((await call("GET", `/v1/members?externalId=${m.externalId}`, { key: b.secret })).status).toBe(404);
    const quote = await call("POST", "/v1/quote", { key: b.secret, body: { memberId: m.id, amount: 1_000, currency: "USD" } });
    expect(quote.status).toBe(404);
    // The storefront and admin keys read every member.
    expect((await call("GET", `/v1/members/${m.id}`, { key: p.keys.storefront })).status).toBe(200);
  });

  it("a partner event touches the member (sale or member.upsert); a partner cannot erase a member it never touched", async () => {
    const p = await newProgram();
    const [a, b] = [await partnerKey(p), await partnerKey(p)];
    const externalId = uniqueKey("cust");
    expect((await postEvent(p, a.secret, { type: "member.upsert", externalId, email: "ana@example.com" })).status).toBe(201);
    const found = await call("GET", `/v1/members?externalId=${externalId}`, { key: a.secret });
    expect(found.status).toBe(200);
    expect((await call("GET", `/v1/members/${found.body.id}`, { key: b.secret })).status).toBe(404);

    const erase = await postEvent(p, b.secret, { type: "member.erase", memberId: found.body.id });
    expect(erase.status).toBe(404);
    expect((await call("GET", `/v1/members/${found.body.id}`, { key: p.keys.admin })).body.email).toBe("ana@example.com");

    // After B's own sale the member is B's too.
    expect(
      (await postEvent(p, b.secret, { type: "sale", memberId: found.body.id, orderId: uniqueKey("o"), amount: 500, currency: "USD" }))
        .status,
    ).toBe(201);
    expect((await call("GET", `/v1/members/${found.body.id}`, { key: b.secret })).status).toBe(200);
  });

  it("a coalition partner key (memberAccess: program) reads every member; the setting is for partner keys only", async () => {
    const p = await newProgram();
    const coalition = await partnerKey(p, { memberAccess: "program" });
    expect(coalition.memberAccess).toBe("program");
    const m = await newMember(p);
    expect((await call("GET", `/v1/members/${m.id}`, { key: coalition.secret })).status).toBe(200);
    const wrong = await call("POST", "/v1/keys", {
      key: p.keys.admin,
      body: { name: "sf", scope: "storefront", memberAccess: "program" },
    });
    expect(wrong.status).toBe(400);
  });

  it("the default partner key of a program is scoped like any other", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    expect((await call("GET", `/v1/members/${m.id}`, { key: p.keys.partner })).status).toBe(404);
  });
});
