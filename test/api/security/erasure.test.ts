import { describe, expect, it } from "vitest";
import { deliverDueMessages } from "../../../src/services/campaigns/messages";
import { consumeOutboxEvents } from "../../../src/services/campaigns/triggers";
import { dispatchOutbox, sweepDueDeliveries } from "../../../src/services/webhooks/delivery";
import { distinctivePerson, needlesOf, type Person, searchWholeDatabase } from "../../support/whole-database-search";
import { call, db, ledgerSum, newProgram, partnerSignature, type TestProgram, testEnv, uniqueKey } from "../helpers";

const directEnv = { ...testEnv, WEBHOOK_QUEUE: undefined };

/** The outbox consumers and senders a minute of crons would run: campaigns, messages, webhooks. */
async function tick() {
  const at = new Date();
  await consumeOutboxEvents(testEnv, at, 500);
  await deliverDueMessages(testEnv, at, 500);
  await dispatchOutbox(directEnv, at, 500);
  await sweepDueDeliveries(directEnv, at, 500);
}

async function postSigned(p: TestProgram, payload: unknown) {
  const raw = JSON.stringify(payload);
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: { "content-type": "application/json", ...partnerSignature(p.partnerSigningSecret, raw) },
  });
}

const search = (person: Person) =>
  searchWholeDatabase(async (sql, args = []) => (await db().$client.execute({ sql, args: args as never })).rows, needlesOf(person));

const expectOk = (res: { status: number; body: unknown }, status: number) => expect(res.status, JSON.stringify(res.body)).toBe(status);

/**
 * A program where a member's data travels everywhere it can: a webhook subscription (deliveries),
 * a welcome campaign with a message naming them, activity rules, and the member created by a
 * partner upsert, then buying, reporting activities with their contact in the attributes,
 * getting tags and attributes, answering a survey and being adjusted with a note naming them.
 */
async function personEverywhere() {
  const p = await newProgram({ expiryDays: null });
  const person = distinctivePerson();
  expectOk(
    await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: `http://receiver.test/__test/receiver/${uniqueKey("erasure")}`, eventTypes: ["*"] },
    }),
    201,
  );
  expectOk(
    await call("PUT", "/v1/channels/email", {
      key: p.keys.admin,
      body: { url: `http://receiver.test/__test/receiver/${uniqueKey("mail")}` },
    }),
    201,
  );
  expectOk(
    await call("POST", "/v1/campaigns", {
      key: p.keys.admin,
      body: {
        name: "Welcome",
        trigger: { type: "welcome" },
        actions: [{ type: "send_message", channel: "email", template: "Hi {{name}} <{{email}}> ({{externalId}})" }],
      },
    }),
    201,
  );
  expectOk(
    await call("POST", "/v1/rules", {
      key: p.keys.admin,
      body: { name: "Visit", trigger: { type: "activity", kind: "store_visit" }, effect: { type: "fixed", points: 10 } },
    }),
    201,
  );

  const upsert = {
    eventId: uniqueKey("crm"),
    type: "member.upsert",
    externalId: person.externalId,
    email: person.email,
    phone: person.phone,
    name: person.name,
    attributes: { favouriteStore: `${person.name}'s corner` },
    tags: [`friend-of-${person.externalId}`],
    consent: { email: true, sms: true },
  };
  const created = await postSigned(p, upsert);
  expectOk(created, 201);
  const memberId = created.body.result.member.id as string;

  const orderId = uniqueKey("order");
  expectOk(
    await postSigned(p, {
      eventId: uniqueKey("pos"),
      type: "sale",
      externalId: person.externalId,
      orderId,
      amount: 10_000,
      currency: "USD",
    }),
    201,
  );
  expectOk(
    await call("POST", `/v1/members/${memberId}/accruals`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("acc"),
      body: { orderId: uniqueKey("order"), amount: 5_000, currency: "USD", channel: "web" },
    }),
    201,
  );
  expectOk(
    await call("POST", `/v1/members/${memberId}/activities`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("act"),
      body: { kind: "store_visit", attributes: { contact: person.email, note: `visited with ${person.name}` } },
    }),
    201,
  );
  expectOk(
    await postSigned(p, {
      eventId: uniqueKey("pos"),
      type: "activity",
      externalId: person.externalId,
      kind: "store_visit",
      attributes: { phone: person.phone },
    }),
    201,
  );
  expectOk(
    await call("PATCH", `/v1/members/${memberId}`, { key: p.keys.storefront, body: { attributes: { altEmail: person.email } } }),
    200,
  );
  expectOk(await call("POST", `/v1/members/${memberId}/tags`, { key: p.keys.storefront, body: { add: [`vip-${person.phone}`] } }), 200);
  expectOk(
    await call("POST", `/v1/members/${memberId}/feedback`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "nps", score: 9, text: `${person.name} loved it`, tags: [`said-${person.externalId}`] },
    }),
    201,
  );
  expectOk(
    await call("POST", `/v1/members/${memberId}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("adj"),
      body: { points: 25, reason: `Goodwill for ${person.name}` },
    }),
    201,
  );
  expectOk(
    await call("POST", `/v1/members/${memberId}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("red"),
      body: { points: 20, reason: `Checkout for ${person.email}` },
    }),
    201,
  );
  // The campaign's message and the webhook deliveries.
  await tick();

  // Sanity: the data did travel, so "nothing found" afterwards means the erasure found it.
  const before = new Set((await search(person)).hits.map((h) => h.table));
  for (const table of [
    "members",
    "partner_events",
    "ledger_entries",
    "ledger_requests",
    "outbox_events",
    "webhook_deliveries",
    "messages",
    "feedback",
  ])
    expect([...before], `${table} holds the person's data before erasure`).toContain(table);
  return { p, person, memberId, orderId, upsert };
}

/** After an erasure: nothing anywhere, the books intact, reads and replays without the person. */
async function expectErased(ctx: Awaited<ReturnType<typeof personEverywhere>>, balanceBefore: number) {
  const { p, person, memberId, upsert } = ctx;
  const found = await search(person);
  expect(found.tables.length).toBeGreaterThan(30);
  expect(found.hits).toEqual([]);

  const sums = await ledgerSum(memberId);
  expect(sums).toMatchObject({ sum: balanceBefore, balance: balanceBefore });
  const member = await call("GET", `/v1/members/${memberId}`, { key: p.keys.storefront });
  expect(member.body).toMatchObject({ status: "erased", email: null, phone: null, name: null, attributes: {}, tags: [] });
  expect(member.body.balance.total).toBe(balanceBefore);
  const reads = [
    member,
    await call("GET", `/v1/members/${memberId}/ledger?limit=100`, { key: p.keys.storefront }),
    await call("GET", `/v1/members/${memberId}/feedback?limit=100`, { key: p.keys.admin }),
    await call("GET", `/v1/members/${memberId}`, { key: p.keys.admin }),
    // A replay of the partner's upsert answers from its stored (now redacted) result.
    await postSigned(p, upsert),
  ];
  for (const r of reads) expect(r.status).toBeLessThan(300);
  expect(reads[4].body).toMatchObject({ replayed: true, result: { memberId, redacted: true } });
  for (const r of reads)
    for (const needle of needlesOf(person)) expect(JSON.stringify(r.body).toLowerCase()).not.toContain(needle.toLowerCase());

  // The crons that run afterwards (events consumed, deliveries made and sent) bring nothing back.
  await tick();
  expect((await search(person)).hits).toEqual([]);
}

describe("erasure leaves no personal data anywhere in the database", () => {
  it("POST /v1/members/{id}/erase", async () => {
    const ctx = await personEverywhere();
    const balance = (await ledgerSum(ctx.memberId)).balance;
    const erased = await call("POST", `/v1/members/${ctx.memberId}/erase`, { key: ctx.p.keys.admin });
    expectOk(erased, 200);
    expect(erased.body).toMatchObject({ status: "erased", externalId: `erased:${ctx.memberId}` });
    await expectErased(ctx, balance);
    const tombstones = await db().$client.execute({ sql: "SELECT * FROM erased_members WHERE member_id = ?", args: [ctx.memberId] });
    expect(tombstones.rows.map((r) => [r.program_id, r.member_id])).toEqual([[ctx.p.programId, ctx.memberId]]);
    // Erasing again re-applies the scrub, without a second event.
    expectOk(await call("POST", `/v1/members/${ctx.memberId}/erase`, { key: ctx.p.keys.admin }), 200);
    const events = await db().$client.execute({
      sql: "SELECT COUNT(*) AS n FROM outbox_events WHERE member_id = ? AND type = 'member.erased'",
      args: [ctx.memberId],
    });
    expect(Number(events.rows[0].n)).toBe(1);
  });

  it("a partner member.erase event (signed), idempotent by eventId", async () => {
    const ctx = await personEverywhere();
    const balance = (await ledgerSum(ctx.memberId)).balance;
    const event = { eventId: uniqueKey("crm-erase"), type: "member.erase", externalId: ctx.person.externalId };
    const erased = await postSigned(ctx.p, event);
    expectOk(erased, 200);
    expect(erased.body).toMatchObject({ status: 200, replayed: false, result: { member: { id: ctx.memberId, status: "erased" } } });
    await expectErased(ctx, balance);
    const again = await postSigned(ctx.p, event);
    expect(again.body).toMatchObject({ status: 200, replayed: true, result: { member: { id: ctx.memberId, status: "erased" } } });
    // The externalId is gone with the person: another deletion request for it names nobody.
    const unknown = await postSigned(ctx.p, { ...event, eventId: uniqueKey("crm-erase") });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const audit = await db().$client.execute({ sql: "SELECT action, key_id FROM audit_log WHERE entity_id = ?", args: [ctx.memberId] });
    expect(audit.rows.map((r) => r.action)).toEqual(["member.erased"]);
    expect(audit.rows[0].key_id).toBeTruthy();
  });

  it("an upsert and an erasure of one person in one partner batch: the stored upsert result is redacted too", async () => {
    const p = await newProgram();
    const person = distinctivePerson();
    const upsert = {
      eventId: uniqueKey("crm"),
      type: "member.upsert",
      externalId: person.externalId,
      email: person.email,
      name: person.name,
    };
    const res = await postSigned(p, {
      events: [upsert, { eventId: uniqueKey("crm"), type: "member.erase", externalId: person.externalId }],
    });
    expectOk(res, 200);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 200]);
    expect((await search(person)).hits).toEqual([]);
    const replay = await postSigned(p, upsert);
    expect(replay.body).toMatchObject({ replayed: true, result: { redacted: true } });
  });
});

describe("an erased member", () => {
  it("accepts no profile writes and no new earning or spending (409 member_erased); refunds still close the books", async () => {
    const ctx = await personEverywhere();
    const { p, memberId, person } = ctx;
    expectOk(await call("POST", `/v1/members/${memberId}/erase`, { key: p.keys.admin }), 200);
    const refused = [
      await call("PATCH", `/v1/members/${memberId}`, { key: p.keys.storefront, body: { name: "Back again" } }),
      await call("PATCH", `/v1/members/${memberId}`, { key: p.keys.admin, body: { consent: { email: true } } }),
      await call("PATCH", `/v1/members/${memberId}`, { key: p.keys.admin, body: { attributes: { a: 1 } } }),
      await call("POST", `/v1/members/${memberId}/tags`, { key: p.keys.storefront, body: { add: ["x"] } }),
      await call("POST", `/v1/members/${memberId}/feedback`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey("fb"),
        body: { kind: "nps", score: 3 },
      }),
      await call("POST", `/v1/members/${memberId}/accruals`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey("acc"),
        body: { orderId: uniqueKey("order"), amount: 1_000, currency: "USD" },
      }),
      await call("POST", `/v1/members/${memberId}/activities`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey("act"),
        body: { kind: "store_visit" },
      }),
      await call("POST", `/v1/members/${memberId}/redemptions`, {
        key: p.keys.storefront,
        idempotencyKey: uniqueKey("red"),
        body: { points: 1, reason: "x" },
      }),
      await postSigned(p, { eventId: uniqueKey("crm"), type: "member.upsert", externalId: `erased:${memberId}`, name: "Back again" }),
    ];
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.error.code).toBe("member_erased");
    }

    // A refund of an order from before the erasure reverses its points; its note is not kept.
    const refund = await call("POST", `/v1/orders/${ctx.orderId}/refunds`, {
      key: p.keys.partner,
      idempotencyKey: uniqueKey("ref"),
      body: { amount: 10_000, reason: `Returned by ${person.name}` },
    });
    expectOk(refund, 201);
    expect(refund.body.pointsReversed).toBe(100);
    const sums = await ledgerSum(memberId);
    expect(sums.sum).toBe(sums.balance);
    await tick();
    expect((await search(person)).hits).toEqual([]);

    // The person's old customer id registers someone new: the erased member is not resurrected.
    const fresh = await postSigned(p, { eventId: uniqueKey("crm"), type: "member.upsert", externalId: person.externalId });
    expectOk(fresh, 201);
    expect(fresh.body.result.member.id).not.toBe(memberId);
    expect((await call("GET", `/v1/members/${memberId}`, { key: p.keys.admin })).body.status).toBe("erased");
  });
});
