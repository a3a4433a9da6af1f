import { Validator } from "@cfworker/json-schema";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { dispatchOutbox, sweepDueDeliveries } from "../../src/services/webhooks/delivery";
import { KNOWN_EVENT_TYPES } from "../../src/services/webhooks/subscriptions";
import { accrue, call, newMember, newProgram, testEnv, uniqueKey } from "./helpers";

// Every outbound event type is published in the OpenAPI document's `webhooks` section; deliveries
// are checked against that document (as JSON Schema 2020-12, as a partner's tooling reads it).
type Json = Record<string, any>;

async function openApi(): Promise<Json> {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  return res.body;
}

/** The schema without its examples: annotations only, and the validator would read an example's `id` as a schema id. */
const withoutExamples = (node: unknown): unknown =>
  Array.isArray(node)
    ? node.map(withoutExamples)
    : node && typeof node === "object"
      ? Object.fromEntries(
          Object.entries(node)
            .filter(([k]) => k !== "example" && k !== "examples")
            .map(([k, v]) => [k, withoutExamples(v)]),
        )
      : node;

/** A validator for the body of `type`'s webhook, its $refs resolved against the document's components. */
function validatorFor(doc: Json, type: string) {
  const body = doc.webhooks?.[type]?.post?.requestBody?.content?.["application/json"];
  expect(body, `webhooks.${type}`).toBeDefined();
  return new Validator(withoutExamples({ ...body.schema, components: doc.components }) as Json, "2020-12", false);
}

const errorsOf = (doc: Json, type: string, payload: unknown) =>
  validatorFor(doc, type)
    .validate(payload)
    .errors.map((e) => `${e.instanceLocation}: ${e.error}`);

describe("webhook payload schemas", () => {
  it("publishes every emitted event type with a schema and an example that the schema accepts", async () => {
    const doc = await openApi();
    expect(Object.keys(doc.webhooks).sort()).toEqual([...KNOWN_EVENT_TYPES].sort());
    for (const type of KNOWN_EVENT_TYPES) {
      const op = doc.webhooks[type].post;
      expect(op.operationId).toBe(`webhookEvents.${type}`);
      expect(op.summary).toMatch(/\S/);
      expect(op.parameters.map((p: Json) => p.name).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
      const ref = op.requestBody.content["application/json"].schema.$ref as string;
      const example = doc.components.schemas[ref.split("/").pop()!].example;
      expect(example, type).toMatchObject({ type, data: { memberId: expect.any(String) } });
      expect(errorsOf(doc, type, example), type).toEqual([]);
    }
  });

  it("rejects a payload that breaks the schema (so the delivery check below can fail)", async () => {
    const doc = await openApi();
    const example = doc.components.schemas.PointsEarnedEvent.example;
    expect(errorsOf(doc, "points.earned", { ...example, type: "points.redeemed" })).not.toEqual([]);
    expect(errorsOf(doc, "points.earned", { ...example, data: { ...example.data, points: "129" } })).not.toEqual([]);
    expect(errorsOf(doc, "points.earned", { ...example, data: { memberId: "mem_1" } })).not.toEqual([]);
  });

  it("real deliveries of every kind a storefront and an admin cause match their published schema", async () => {
    const p = await newProgram({ holdDays: 0 });
    const bucket = uniqueKey("payloads");
    const sub = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: `http://receiver.test/__test/receiver/${bucket}`, eventTypes: ["*"] },
    });
    expect(sub.status).toBe(201);
    const m = await newMember(p, { externalId: uniqueKey("cust") });
    const orderId = uniqueKey("order");
    expect((await accrue(p, m.id, 100_000, { orderId })).status).toBe(201);
    const write = (path: string, body?: unknown) => call("POST", path, { key: p.keys.admin, idempotencyKey: uniqueKey(), body });
    expect((await write(`/v1/members/${m.id}/redemptions`, { points: 10, reason: "Checkout" })).status).toBe(201);
    expect((await write(`/v1/members/${m.id}/adjustments`, { points: -5, reason: "Correction" })).status).toBe(201);
    expect((await write(`/v1/members/${m.id}/adjustments`, { points: 5, reason: "Goodwill" })).status).toBe(201);
    expect((await write(`/v1/orders/${orderId}/refunds`, { amount: 10_000 })).status).toBe(201);
    const reward = await call("POST", "/v1/rewards", {
      key: p.keys.admin,
      body: { name: "10% off", kind: "coupon_percent", value: 10, pointsCost: 50 },
    });
    expect(reward.status).toBe(201);
    const coupons: string[] = [];
    for (let i = 0; i < 2; i++) {
      const issued = await write(`/v1/members/${m.id}/rewards/${reward.body.id}/redeem`);
      expect(issued.status).toBe(201);
      coupons.push(issued.body.coupon.code);
    }
    expect((await call("POST", `/v1/coupons/${coupons[0]}/consume`, { key: p.keys.storefront, body: { orderId: "o-1" } })).status).toBe(
      200,
    );
    expect((await call("POST", `/v1/coupons/${coupons[1]}/cancel`, { key: p.keys.storefront })).status).toBe(200);
    const reserved = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 20, reason: "checkout", capture: false },
    });
    expect(reserved.status).toBe(201);
    const hold = reserved.body.redemption.id;
    expect((await call("POST", `/v1/redemptions/${hold}/void`, { key: p.keys.storefront, idempotencyKey: uniqueKey() })).status).toBe(200);
    expect((await write(`/v1/members/${m.id}/erase`)).status).toBe(200);

    const env = { ...testEnv, WEBHOOK_QUEUE: undefined };
    await dispatchOutbox(env, new Date(), 500);
    await sweepDueDeliveries(env, new Date(), 500);
    const received = (await call("GET", `/__test/receiver/${bucket}`)).body.received as Array<{
      headers: Record<string, string>;
      body: string;
    }>;

    const doc = await openApi();
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const r of received) {
      const payload = new Webhook(sub.body.secret).verify(r.body, r.headers) as Json;
      seen.add(payload.type);
      if (!doc.webhooks[payload.type]) problems.push(`${payload.type}: not published`);
      else problems.push(...errorsOf(doc, payload.type, payload).map((e) => `${payload.type} ${e}`));
    }
    expect(problems).toEqual([]);
    expect([...seen].sort()).toEqual(
      [
        "member.created",
        "points.earned",
        "order.accrued",
        "points.redeemed",
        "points.adjusted",
        "points.reversed",
        "reward.issued",
        "coupon.consumed",
        "coupon.cancelled",
        "redemption.reserved",
        "redemption.voided",
        "points.returned",
        "member.erased",
      ].sort(),
    );
  });
});
