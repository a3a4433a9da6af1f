import { describe, expect, it } from "vitest";
import { legacySignatureHeader } from "../../src/lib/signing";
import { accrue, call, db, ledgerSum, newMember, newProgram, partnerSignature, type TestProgram, uniqueKey } from "./helpers";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * POST /v1/partner/events the way a partner does: raw JSON body, signed with the
 * `standardwebhooks` package (see partnerSignature), or with the given signature headers.
 */
async function postSigned(
  p: TestProgram,
  payload: unknown,
  opts: { secret?: string; t?: number; key?: string; raw?: string; signed?: Record<string, string> } = {},
) {
  const raw = opts.raw ?? JSON.stringify(payload);
  const signed =
    opts.signed ??
    partnerSignature(opts.secret ?? p.partnerSigningSecret, raw, { at: opts.t === undefined ? undefined : new Date(opts.t * 1000) });
  const headers = { "content-type": "application/json", ...signed };
  return call("POST", "/v1/partner/events", { key: opts.key ?? p.keys.partner, rawBody: raw, headers });
}

/** The deprecated scheme, as partners integrated before Standard Webhooks sign. */
const legacySigned = async (secret: string, raw: string, t = nowSeconds()) => ({
  "x-loyalty-signature": await legacySignatureHeader([secret], raw, t),
});

const sale = (extra: Record<string, unknown> = {}) => ({
  eventId: uniqueKey("evt"),
  type: "sale",
  orderId: uniqueKey("order"),
  amount: 10_000,
  currency: "USD",
  ...extra,
});

describe("partner events: signatures", () => {
  it("accepts a correctly signed sale, auto-registers the externalId and earns points", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("cust");
    const res = await postSigned(p, sale({ externalId }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ index: 0, type: "sale", status: 201, replayed: false, result: { pointsEarned: 100 } });
    const member = await call("GET", `/v1/members?externalId=${externalId}`, { key: p.keys.storefront });
    expect(member.status).toBe(200);
    expect(member.body.balance.total).toBe(100);
    expect(await ledgerSum(member.body.id)).toMatchObject({ sum: 100, balance: 100 });
  });

  it("rejects bad, missing, malformed and wrong-secret signatures with 401 invalid_signature", async () => {
    const p = await newProgram();
    const other = await newProgram();
    const payload = sale({ externalId: uniqueKey("cust") });
    const raw = JSON.stringify(payload);
    const cases = [
      await postSigned(p, payload, { signed: {} }),
      await postSigned(p, payload, {
        signed: { "webhook-id": "m1", "webhook-timestamp": String(nowSeconds()), "webhook-signature": "garbage" },
      }),
      await postSigned(p, payload, { secret: other.partnerSigningSecret }),
      // Signed body ≠ sent body (tampered amount).
      await postSigned(p, payload, { raw: raw.replace("10000", "99999"), signed: partnerSignature(p.partnerSigningSecret, raw) }),
      // The signed id is not the sent one.
      await postSigned(p, payload, { raw, signed: { ...partnerSignature(p.partnerSigningSecret, raw, { id: "m1" }), "webhook-id": "m2" } }),
      // The deprecated header, malformed or with another program's secret.
      await postSigned(p, payload, { signed: { "x-loyalty-signature": "garbage" } }),
      await postSigned(p, payload, { signed: await legacySigned(other.partnerSigningSecret, raw) }),
    ];
    for (const res of cases) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("invalid_signature");
      expect(res.body.error.requestId).toBeTruthy();
    }
    expect(cases[0].body.error.details.reason).toBe("missing");
    expect(cases[1].body.error.details.reason).toBe("malformed");
    expect(cases[2].body.error.details.reason).toBe("mismatch");
    expect(cases.slice(3).map((c) => c.body.error.details)).toEqual([
      { reason: "mismatch", scheme: "standard-webhooks" },
      { reason: "mismatch", scheme: "standard-webhooks" },
      { reason: "malformed", scheme: "x-loyalty-signature" },
      { reason: "mismatch", scheme: "x-loyalty-signature" },
    ]);
    const orders = await db().$client.execute({ sql: "SELECT count(*) AS n FROM orders WHERE program_id = ?", args: [p.programId] });
    expect(Number(orders.rows[0].n)).toBe(0);
  });

  it("rejects timestamps outside ±5 minutes (replay of a captured request)", async () => {
    const p = await newProgram();
    const payload = sale({ externalId: uniqueKey("cust") });
    for (const t of [nowSeconds() - 6 * 60, nowSeconds() + 6 * 60]) {
      const res = await postSigned(p, payload, { t });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: "invalid_signature", details: { reason: "expired" } });
    }
    expect((await postSigned(p, payload, { t: nowSeconds() - 4 * 60 })).status).toBe(201);
  });

  it("keeps accepting X-Loyalty-Signature through its deprecation window, announcing the Sunset", async () => {
    const p = await newProgram();
    expect(p.partnerSigningSecret).toMatch(/^whsec_/);
    const payload = sale({ externalId: uniqueKey("cust") });
    const raw = JSON.stringify(payload);
    const legacy = await postSigned(p, payload, { raw, signed: await legacySigned(p.partnerSigningSecret, raw) });
    expect(legacy.status).toBe(201);
    expect(legacy.headers.get("deprecation")).toBe("true");
    expect(legacy.headers.get("sunset")).toBe("Wed, 30 Jun 2027 00:00:00 GMT");
    const standard = await postSigned(p, sale({ externalId: uniqueKey("cust") }));
    expect(standard.status).toBe(201);
    expect(standard.headers.get("deprecation")).toBeNull();
    // The replay window holds for the old scheme too.
    const stale = await postSigned(p, payload, { raw, signed: await legacySigned(p.partnerSigningSecret, raw, nowSeconds() - 6 * 60) });
    expect(stale.body.error).toMatchObject({ code: "invalid_signature", details: { reason: "expired", scheme: "x-loyalty-signature" } });
  });

  it("a program from before the standard (psk_ secret) keeps working, and a rotation moves it to a whsec_ secret", async () => {
    const oldSecret = "psk_0123456789abcdefghjkmnpqrstvwxyz01234567";
    const p = await newProgram({ settings: { partnerSigningSecret: oldSecret } });
    const raw = () => JSON.stringify(sale({ externalId: uniqueKey("cust") }));
    const body = raw();
    expect((await postSigned(p, null, { raw: body, signed: await legacySigned(oldSecret, body) })).status).toBe(201);
    const rotated = await call("POST", "/v1/partner/signing-secret/rotate", { key: p.keys.admin });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    // Standard Webhooks with the new secret; the old one still works its old way during the overlap.
    expect((await postSigned(p, null, { raw: raw(), secret: rotated.body.secret })).status).toBe(201);
    const body2 = raw();
    expect((await postSigned(p, null, { raw: body2, signed: await legacySigned(oldSecret, body2) })).status).toBe(201);
  });

  it("answers a resend (same eventId, even re-signed or replayed byte for byte) with the original result and no double points", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const payload = sale({ memberId: m.id });
    const raw = JSON.stringify(payload);
    const signed = partnerSignature(p.partnerSigningSecret, raw);
    const first = await postSigned(p, payload, { raw, signed });
    const replay = await postSigned(p, payload, { raw, signed });
    const resigned = await postSigned(p, payload);
    expect(first.status).toBe(201);
    for (const again of [replay, resigned]) {
      expect(again.status).toBe(201);
      expect(again.body.replayed).toBe(true);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body.result).toEqual(first.body.result);
    }
    // Same eventId with a different body still answers the original: the eventId is the identity.
    const changed = await postSigned(p, { ...payload, amount: 50_000 });
    expect(changed.body).toMatchObject({ replayed: true, result: first.body.result });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 100, balance: 100 });
  });

  it("needs a partner or admin key: storefront is 403, no key is 401", async () => {
    const p = await newProgram();
    const payload = sale({ externalId: uniqueKey("cust") });
    expect((await postSigned(p, payload, { key: p.keys.storefront })).status).toBe(403);
    const anonymous = await call("POST", "/v1/partner/events", {
      rawBody: JSON.stringify(payload),
      headers: { "content-type": "application/json" },
    });
    expect(anonymous.status).toBe(401);
    expect((await postSigned(p, payload, { key: p.keys.admin })).status).toBe(201);
  });

  it("rotates the partner signing secret: new and previous both accepted during the overlap, audited", async () => {
    const p = await newProgram();
    expect((await call("POST", "/v1/partner/signing-secret/rotate", { key: p.keys.partner })).status).toBe(403);
    const rotated = await call("POST", "/v1/partner/signing-secret/rotate", { key: p.keys.admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.body.secret).not.toBe(p.partnerSigningSecret);
    expect(Date.parse(rotated.body.previousSecretValidUntil) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect((await postSigned(p, sale({ externalId: uniqueKey("c") }), { secret: rotated.body.secret })).status).toBe(201);
    expect((await postSigned(p, sale({ externalId: uniqueKey("c") }), { secret: p.partnerSigningSecret })).status).toBe(201);
    // A second rotation drops the oldest secret.
    const again = await call("POST", "/v1/partner/signing-secret/rotate", { key: p.keys.admin });
    expect((await postSigned(p, sale({ externalId: uniqueKey("c") }), { secret: p.partnerSigningSecret })).status).toBe(401);
    expect((await postSigned(p, sale({ externalId: uniqueKey("c") }), { secret: rotated.body.secret })).status).toBe(201);
    expect((await postSigned(p, sale({ externalId: uniqueKey("c") }), { secret: again.body.secret })).status).toBe(201);
    const audit = await call("GET", "/v1/audit?entityType=program", { key: p.keys.admin });
    const rotations = audit.body.data.filter((a: { action: string }) => a.action === "program.partner_secret_rotated");
    expect(rotations).toHaveLength(2);
    expect(JSON.stringify(audit.body)).not.toContain(again.body.secret);
  });
});

describe("partner events: batches", () => {
  it("applies the valid events of a mixed batch, rejects the others with their own codes, in order", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    // The partner's own earlier sale (a partner refunds only its own orders).
    const prior = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: p.keys.partner,
      idempotencyKey: uniqueKey("acc"),
      body: { orderId: uniqueKey("order"), amount: 5_000, currency: "USD" },
    });
    expect(prior.status).toBe(201);
    const priorOrder = JSON.parse(JSON.stringify(prior.body)).entries[0].sourceId as string;
    const newCustomer = uniqueKey("cust");
    const s1 = sale({ memberId: m.id, orderId: uniqueKey("o") });
    const events = [
      s1, // 0 applied: 100 points
      { ...sale({ memberId: m.id }), amount: -5 }, // 1 invalid amount
      { eventId: uniqueKey("evt"), type: "refund", orderId: s1.orderId, amount: 5_000 }, // 2 refund of the sale above, same batch: 50 back
      { eventId: uniqueKey("evt"), type: "teleport", memberId: m.id }, // 3 unknown type
      { eventId: uniqueKey("evt"), type: "refund", orderId: "no-such-order", amount: 100 }, // 4 404
      { eventId: uniqueKey("evt"), type: "member.upsert", externalId: newCustomer, email: "new@example.com", name: "New" }, // 5 created
      sale({ externalId: newCustomer, amount: 2_000 }), // 6 sale for the member just upserted: 20 points
      { eventId: uniqueKey("evt"), type: "activity", externalId: newCustomer, kind: "store_visit" }, // 7 activity
      sale({ memberId: m.id, externalId: "both" }), // 8 ambiguous member reference
      sale({ memberId: "mem_does_not_exist" }), // 9 404
      { eventId: uniqueKey("evt"), type: "refund", orderId: priorOrder, amount: 10_000 }, // 10 409 refund_exceeds_order (order was 5000)
      s1, // 11 duplicate of 0 in the same batch
      "not an object", // 12
      { ...sale({ memberId: m.id }), currency: "EUR" }, // 13 currency mismatch: 400 from the ledger
    ];
    const res = await postSigned(p, { events });
    expect(res.status).toBe(200);
    const r = res.body.results as Array<{ index: number; status: number; replayed: boolean; error?: { code: string }; result?: any }>;
    expect(r.map((x) => x.index)).toEqual(events.map((_, i) => i));
    expect(r.map((x) => x.status)).toEqual([201, 400, 201, 400, 404, 201, 201, 201, 400, 404, 409, 201, 400, 400]);
    expect(r[0].result.pointsEarned).toBe(100);
    expect(r[2].result).toMatchObject({ orderId: s1.orderId, pointsReversed: 50 });
    expect(r[1].error!.code).toBe("invalid_request");
    expect(r[4].error!.code).toBe("not_found");
    expect(r[5].result).toMatchObject({ created: true, member: { externalId: newCustomer, email: "new@example.com" } });
    expect(r[6].result.pointsEarned).toBe(20);
    expect(r[10].error!.code).toBe("refund_exceeds_order");
    expect(r[11]).toMatchObject({ replayed: true, result: r[0].result });
    expect(r[13].error!.code).toBe("invalid_request");
    expect(res.body.summary).toEqual({ received: 14, applied: 5, replayed: 1, unsupported: 0, queued: 0, failed: 8 });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 50 + 50, balance: 100 });

    // Resending the whole batch: applied events replay; rejected ones are evaluated again (nothing was stored for them).
    const resend = await postSigned(p, { events });
    const r2 = resend.body.results as typeof r;
    expect(r2.map((x) => x.status)).toEqual(r.map((x) => x.status));
    expect([0, 2, 5, 6, 7, 11].every((i) => r2[i].replayed)).toBe(true);
    expect(r2[0].result).toEqual(r[0].result);
    expect(resend.body.summary).toMatchObject({ applied: 0, replayed: 6, failed: 8 });
    expect(await ledgerSum(m.id)).toMatchObject({ sum: 100, balance: 100 });
    const stored = await db().$client.execute({
      sql: "SELECT count(*) AS n FROM partner_events WHERE program_id = ?",
      args: [p.programId],
    });
    expect(Number(stored.rows[0].n)).toBe(5);
  });

  it("updates an existing member on member.upsert and keeps the refund of a later batch idempotent", async () => {
    const p = await newProgram();
    const externalId = uniqueKey("cust");
    const created = await postSigned(p, { eventId: uniqueKey("e"), type: "member.upsert", externalId, name: "Ana", tags: ["pos"] });
    expect(created.status).toBe(201);
    const updated = await postSigned(p, {
      eventId: uniqueKey("e"),
      type: "member.upsert",
      externalId,
      name: "Ana Silva",
      consent: { sms: true },
      tags: ["vip"],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.result).toMatchObject({
      created: false,
      member: { id: created.body.result.member.id, name: "Ana Silva", consent: { sms: true }, tags: ["pos", "vip"] },
    });

    const s = sale({ externalId, amount: 8_000 });
    expect((await postSigned(p, s)).status).toBe(201);
    const refund = { eventId: uniqueKey("e"), type: "refund", orderId: s.orderId, amount: 8_000 };
    const first = await postSigned(p, { events: [refund] });
    const second = await postSigned(p, { events: [refund] });
    expect(first.body.results[0]).toMatchObject({ status: 201, replayed: false, result: { pointsReversed: 80 } });
    expect(second.body.results[0]).toMatchObject({ status: 201, replayed: true, result: { pointsReversed: 80 } });
    expect(await ledgerSum(created.body.result.member.id)).toMatchObject({ sum: 0, balance: 0 });
  });

  it("validates the envelope: empty, oversized, non-JSON and wrong media type", async () => {
    const p = await newProgram();
    const tooMany = Array.from({ length: 501 }, () => sale({ externalId: "x" }));
    for (const payload of [{ events: [] }, { events: tooMany }, { events: "nope" }]) {
      const res = await postSigned(p, payload);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    const notJson = await postSigned(p, null, { raw: "{not json" });
    expect(notJson.status).toBe(400);
    const single = await postSigned(p, { eventId: "e", type: "sale" });
    expect(single.status).toBe(400);
    expect(single.body.error.details.fields.length).toBeGreaterThan(0);
    const raw = JSON.stringify(sale({ externalId: "x" }));
    const textPlain = await call("POST", "/v1/partner/events", {
      key: p.keys.partner,
      rawBody: raw,
      headers: { "content-type": "text/plain", ...partnerSignature(p.partnerSigningSecret, raw) },
    });
    expect(textPlain.status).toBe(415);
  });

  it("never touches another program's members or orders", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const mb = await newMember(b);
    const saleB = await accrue(b, mb.id, 3_000);
    const orderB = saleB.body.entries[0].sourceId as string;
    const res = await postSigned(a, {
      events: [
        sale({ memberId: mb.id }),
        { eventId: uniqueKey("e"), type: "refund", orderId: orderB, amount: 3_000 },
        { eventId: uniqueKey("e"), type: "activity", memberId: mb.id, kind: "review" },
      ],
    });
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([404, 404, 404]);
    expect(await ledgerSum(mb.id)).toMatchObject({ sum: 30, balance: 30 });
  });
});
