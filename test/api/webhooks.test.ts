import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { runScheduled } from "../../src/cron/schedule";
import { parseLegacySignatureHeader, verifyLegacySignature } from "../../src/lib/signing";
import {
  DISABLE_AFTER_CONSECUTIVE_FAILURES,
  dispatchOutbox,
  MAX_ATTEMPTS,
  RETRY_SCHEDULE_MINUTES,
  sweepDueDeliveries,
} from "../../src/services/webhooks/delivery";
import { accrue, call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const MINUTE = 60_000;
// Without the queue binding the cron sends deliveries itself (the fallback path).
const directEnv = { ...testEnv, WEBHOOK_QUEUE: undefined };

async function tick(at: Date, env = directEnv) {
  const dispatched = await dispatchOutbox(env, at, 500);
  const swept = await sweepDueDeliveries(env, at, 500);
  return { dispatched, swept };
}

type Received = { headers: Record<string, string>; body: string };
const bucketUrl = (bucket: string) => `http://receiver.test/__test/receiver/${bucket}`;
/** Script a receiver bucket: these statuses first, then `then` (a 3xx answers with Location `location`). */
async function script(bucket: string, statuses: number[], then = 200, location?: string) {
  const res = await call("PUT", `/__test/receiver/${bucket}`, { body: { statuses, then, location } });
  expect(res.status).toBe(200);
}
const received = async (bucket: string): Promise<Received[]> => (await call("GET", `/__test/receiver/${bucket}`)).body.received;

/** What a partner's receiver does with a delivery: verify it with the `standardwebhooks` package (throws when it does not verify). */
const verifyAsPartner = (r: Received, secret: string) => new Webhook(secret).verify(r.body, r.headers) as Record<string, unknown>;

async function subscribe(p: TestProgram, eventTypes: string[], bucket = uniqueKey("bucket")) {
  const res = await call("POST", "/v1/webhooks", { key: p.keys.admin, body: { url: bucketUrl(bucket), eventTypes } });
  expect(res.status).toBe(201);
  return { bucket, webhook: res.body as { id: string; secret: string } };
}

async function deliveries(webhookId: string) {
  const r = await db().$client.execute({ sql: "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id", args: [webhookId] });
  return r.rows.map((row) => ({
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: String(row.event_type),
    status: String(row.status),
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at === null ? null : String(row.next_attempt_at),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
  }));
}

async function webhookRow(id: string) {
  const r = await db().$client.execute({
    sql: "SELECT status, disabled_reason, consecutive_failures FROM webhooks WHERE id = ?",
    args: [id],
  });
  return {
    status: String(r.rows[0].status),
    disabledReason: r.rows[0].disabled_reason as string | null,
    consecutiveFailures: Number(r.rows[0].consecutive_failures),
  };
}

describe("webhooks: admin API", () => {
  it("creates (secret once), lists, gets, patches and deletes subscriptions, each audited without secrets", async () => {
    const p = await newProgram();
    const created = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: "https://partner.example.com/hook", eventTypes: ["points.earned", "tier.*"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: "https://partner.example.com/hook",
      eventTypes: ["points.earned", "tier.*"],
      status: "active",
      consecutiveFailures: 0,
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body.scheme).toBe("standard-webhooks");
    const id = created.body.id;

    const list = await call("GET", "/v1/webhooks", { key: p.keys.admin });
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([id]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    const got = await call("GET", `/v1/webhooks/${id}`, { key: p.keys.admin });
    expect(got.body).not.toHaveProperty("secret");

    const patched = await call("PATCH", `/v1/webhooks/${id}`, { key: p.keys.admin, body: { eventTypes: ["*"], status: "disabled" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ eventTypes: ["*"], status: "disabled", disabledReason: "Disabled by an admin" });
    const enabled = await call("PATCH", `/v1/webhooks/${id}`, { key: p.keys.admin, body: { status: "active" } });
    expect(enabled.body).toMatchObject({ status: "active", disabledReason: null });

    expect((await call("DELETE", `/v1/webhooks/${id}`, { key: p.keys.admin })).status).toBe(204);
    expect((await call("GET", `/v1/webhooks/${id}`, { key: p.keys.admin })).status).toBe(404);
    expect((await call("DELETE", `/v1/webhooks/${id}`, { key: p.keys.admin })).status).toBe(404);

    const audit = await call("GET", `/v1/audit?entityType=webhook&entityId=${id}`, { key: p.keys.admin });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual([
      "webhook.deleted",
      "webhook.updated",
      "webhook.updated",
      "webhook.created",
    ]);
    expect(audit.body.data[0].keyId).toBeTruthy();
    expect(JSON.stringify(audit.body)).not.toContain(created.body.secret);
  });

  it("validates input and scope", async () => {
    const p = await newProgram();
    const bad = [
      { url: "http://partner.example.com/hook", eventTypes: ["points.earned"] }, // http to a public host
      { url: "ftp://x.test/hook", eventTypes: ["points.earned"] },
      { url: "https://partner.example.com/hook", eventTypes: [] },
      { url: "https://partner.example.com/hook", eventTypes: ["Points Earned"] },
      { url: "https://partner.example.com/hook", eventTypes: ["*"], secret: "mine" },
    ];
    for (const body of bad) {
      const res = await call("POST", "/v1/webhooks", { key: p.keys.admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(
      (await call("POST", "/v1/webhooks", { key: p.keys.storefront, body: { url: "https://x.example.com", eventTypes: ["*"] } })).status,
    ).toBe(403);
    expect((await call("GET", "/v1/webhooks", { key: p.keys.partner })).status).toBe(403);
    expect((await call("PATCH", "/v1/webhooks/whk_nope", { key: p.keys.admin, body: {} })).status).toBe(400);
    expect((await call("PATCH", "/v1/webhooks/whk_nope", { key: p.keys.admin, body: { status: "active" } })).status).toBe(404);
  });
});

describe("webhooks: internal and special-purpose URLs are refused", () => {
  // One per class; the full matrix is in test/unit/outbound-url.test.ts.
  const forbidden: Array<[string, RegExp]> = [
    ["https://127.0.0.1/hook", /127\.0\.0\.1 is a loopback address/],
    ["https://10.0.0.5/hook", /10\.0\.0\.5 is a private address \(RFC 1918/],
    ["https://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a link-local address/],
    ["https://100.64.0.1/hook", /carrier-grade NAT/],
    ["https://0.0.0.0/hook", /unspecified/],
    ["https://224.0.0.1/hook", /multicast/],
    ["https://[::1]/hook", /IPv6 loopback/],
    ["https://[fd00::1]/hook", /unique-local/],
    ["https://[fe80::1]/hook", /link-local/],
    ["https://[::ffff:192.168.0.1]/hook", /IPv4-mapped address of 192\.168\.0\.1/],
    ["https://localhost/hook", /localhost is a name reserved/],
    ["https://api.localhost/hook", /under \.localhost/],
    ["https://printer.local/hook", /under \.local,/],
    ["https://metadata.google.internal/computeMetadata/v1/", /under \.internal/],
    ["https://db.localdomain/hook", /under \.localdomain/],
    ["https://fileserver/hook", /single-label/],
    ["https://2130706433/hook", /127\.0\.0\.1 is a loopback/], // decimal
    ["https://0x7f.1/hook", /127\.0\.0\.1 is a loopback/], // hex, short form
    ["https://0177.0.0.1/hook", /127\.0\.0\.1 is a loopback/], // octal
    ["https://user:pass@partner.example.com/hook", /credentials/],
    ["http://partner.example.com/hook", /must use https/],
    ["http://localhost:8080/hook", /must use https/], // no http exception for local hosts any more
  ];

  async function expectRefused(res: Awaited<ReturnType<typeof call>>, url: string, reason: RegExp) {
    expect(res.status, url).toBe(400);
    expect(res.body.error.code, url).toBe("invalid_request");
    expect(res.body.error.message, url).toMatch(reason);
    expect(res.body.error.details.fields[0].path, url).toBe("url");
  }

  async function webhookCount(programId: string) {
    const r = await db().$client.execute({ sql: "SELECT count(*) AS n FROM webhooks WHERE program_id = ?", args: [programId] });
    return Number(r.rows[0].n);
  }

  it("POST: 400 naming the reason, nothing written", async () => {
    const p = await newProgram();
    for (const [url, reason] of forbidden) {
      await expectRefused(await call("POST", "/v1/webhooks", { key: p.keys.admin, body: { url, eventTypes: ["*"] } }), url, reason);
    }
    expect(await webhookCount(p.programId)).toBe(0);
    const audit = await call("GET", "/v1/audit?entityType=webhook", { key: p.keys.admin });
    expect(audit.body.data).toEqual([]);
    // Public hosts and addresses, ports included, are fine.
    for (const url of ["https://hooks.partner.example.com:8443/in", "https://8.8.8.8/hook", "https://[2606:4700::1111]/hook"]) {
      expect((await call("POST", "/v1/webhooks", { key: p.keys.admin, body: { url, eventTypes: ["*"] } })).status, url).toBe(201);
    }
  });

  it("PATCH: 400 naming the reason, the subscription unchanged; a stored forbidden url blocks re-enabling only", async () => {
    const p = await newProgram();
    const created = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: "https://partner.example.com/hook", eventTypes: ["points.earned"] },
    });
    const id = created.body.id;
    const before = await call("GET", `/v1/webhooks/${id}`, { key: p.keys.admin });
    for (const [url, reason] of forbidden) {
      await expectRefused(await call("PATCH", `/v1/webhooks/${id}`, { key: p.keys.admin, body: { url, eventTypes: ["*"] } }), url, reason);
    }
    expect((await call("GET", `/v1/webhooks/${id}`, { key: p.keys.admin })).body).toEqual(before.body);
    const audit = await call("GET", `/v1/audit?entityType=webhook&entityId=${id}`, { key: p.keys.admin });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual(["webhook.created"]);

    // A row from before the policy (or a script): it can be disabled and retyped, not re-enabled as is.
    await db().$client.execute({ sql: "UPDATE webhooks SET url = ? WHERE id = ?", args: ["https://10.1.2.3/hook", id] });
    expect((await call("PATCH", `/v1/webhooks/${id}`, { key: p.keys.admin, body: { status: "disabled", eventTypes: ["*"] } })).status).toBe(
      200,
    );
    await expectRefused(
      await call("PATCH", `/v1/webhooks/${id}`, { key: p.keys.admin, body: { status: "active" } }),
      "re-enable",
      /10\.1\.2\.3 is a private address/,
    );
    expect(await webhookRow(id)).toMatchObject({ status: "disabled" });
    const fixed = await call("PATCH", `/v1/webhooks/${id}`, {
      key: p.keys.admin,
      body: { url: "https://partner.example.com/v2/hook", status: "active" },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ url: "https://partner.example.com/v2/hook", status: "active" });
  });

  it("a stored forbidden url is never fetched: the delivery fails for good, the webhook is disabled until its url is fixed", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.earned"]);
    // The local libSQL server listens on loopback and answers (this request, made with its token,
    // gets its 404): it is reachable from here, so only the policy keeps the delivery from it.
    const loopback = `${testEnv.LIBSQL_URL.replace(/\/$/, "")}/hook`;
    expect(new URL(loopback).hostname).toBe("127.0.0.1");
    const headers = { "content-type": "application/json", authorization: `Bearer ${testEnv.LIBSQL_AUTH_TOKEN}` };
    expect((await fetch(loopback, { method: "POST", headers, body: "{}" })).status).toBe(404);
    await db().$client.execute({ sql: "UPDATE webhooks SET url = ? WHERE id = ?", args: [loopback, webhook.id] });

    await accrue(p, m.id, 1_000);
    await accrue(p, m.id, 2_000);
    await tick(new Date());
    const rows = await deliveries(webhook.id);
    expect(rows).toHaveLength(2);
    // Attempted concurrently: each is refused unsent, or — when the first refusal has already
    // disabled the webhook — parked unsent. Never fetched either way.
    const refused = rows.filter((d) => d.status === "failed");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const d of refused) expect(d).toMatchObject({ attempts: 1, lastStatusCode: null, nextAttemptAt: null });
    for (const d of rows.filter((r) => r.status !== "failed"))
      expect(d).toMatchObject({ status: "pending", attempts: 0, nextAttemptAt: null });
    const log = await call("GET", `/v1/webhooks/${webhook.id}/deliveries`, { key: p.keys.admin });
    for (const d of log.body.data.filter((r: { status: string }) => r.status === "failed"))
      expect(d.lastError).toMatch(/^Not sent: url must use https/);
    const w = await webhookRow(webhook.id);
    expect(w.status).toBe("disabled");
    expect(w.disabledReason).toMatch(/url must use https.*Change the url and re-enable/);

    // Redelivering a failed delivery to a webhook whose https url is still forbidden: not sent either.
    await db().$client.execute({
      sql: "UPDATE webhooks SET url = ?, status = 'active' WHERE id = ?",
      args: ["https://169.254.169.254/latest/meta-data/", webhook.id],
    });
    const again = await call("POST", `/v1/webhooks/${webhook.id}/deliveries/${rows[0].id}/redeliver`, { key: p.keys.admin });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      status: "failed",
      lastStatusCode: null,
      lastError: expect.stringMatching(/^Not sent: .*169\.254\.169\.254 is a link-local address/),
    });

    // Fixed url, re-enabled: a redelivery goes out.
    expect(
      (await call("PATCH", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin, body: { url: bucketUrl(bucket), status: "active" } })).status,
    ).toBe(200);
    const sent = await call("POST", `/v1/webhooks/${webhook.id}/deliveries/${rows[1].id}/redeliver`, { key: p.keys.admin });
    expect(sent.body).toMatchObject({ status: "delivered", lastStatusCode: 200 });
    expect(await received(bucket)).toHaveLength(1);
  });
});

describe("webhooks: delivery pipeline", () => {
  it("outbox → delivery → retries with backoff → success, signed, and visible in the delivery log", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.*"]);
    await script(bucket, [500, 503]);
    const acc = await accrue(p, m.id, 10_000);
    expect(acc.status).toBe(201);

    const t0 = new Date();
    const first = await runScheduled("* * * * *", directEnv, t0);
    expect(first["webhooks.dispatch"]).toMatchObject({ deliveries: expect.any(Number) });
    let [d] = await deliveries(webhook.id);
    expect(d).toMatchObject({ eventType: "points.earned", status: "pending", attempts: 1, lastStatusCode: 500 });
    const firstDelay = Date.parse(d.nextAttemptAt!) - t0.getTime();
    expect(firstDelay).toBeGreaterThanOrEqual(0.8 * MINUTE);
    expect(firstDelay).toBeLessThanOrEqual(1.2 * MINUTE);

    // Not due yet: nothing is sent.
    await tick(new Date(t0.getTime() + 30_000));
    expect(await received(bucket)).toHaveLength(1);

    const t1 = new Date(t0.getTime() + 2 * MINUTE);
    await tick(t1);
    [d] = await deliveries(webhook.id);
    expect(d).toMatchObject({ status: "pending", attempts: 2, lastStatusCode: 503 });
    const secondDelay = Date.parse(d.nextAttemptAt!) - t1.getTime();
    expect(secondDelay).toBeGreaterThanOrEqual(0.8 * 5 * MINUTE);
    expect(secondDelay).toBeLessThanOrEqual(1.2 * 5 * MINUTE);

    await tick(new Date(t1.getTime() + 7 * MINUTE));
    [d] = await deliveries(webhook.id);
    expect(d).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200, nextAttemptAt: null });

    // What the partner received: three identical, signed POSTs.
    const got = await received(bucket);
    expect(got).toHaveLength(3);
    const stranger = (await subscribe(p, ["x.y"])).webhook.secret;
    for (const [i, r] of got.entries()) {
      expect(r.headers["x-loyalty-event-id"]).toBe(d.eventId);
      expect(r.headers["x-loyalty-event-type"]).toBe("points.earned");
      expect(r.headers["x-loyalty-delivery-id"]).toBe(d.id);
      expect(r.headers["x-loyalty-delivery-attempt"]).toBe(String(i + 1));
      expect(r.headers["content-type"]).toBe("application/json");
      // Standard Webhooks: webhook-id is the event id on every attempt, so the receiver de-duplicates on it.
      expect(r.headers["webhook-id"]).toBe(d.eventId);
      expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      expect(verifyAsPartner(r, webhook.secret)).toMatchObject({ id: d.eventId, type: "points.earned" });
      expect(() => verifyAsPartner(r, stranger)).toThrow(/No matching signature/);
      expect(() => verifyAsPartner({ ...r, body: r.body.replace('"points":100', '"points":900') }, webhook.secret)).toThrow();
      expect(r.headers["x-loyalty-signature"]).toBeUndefined();
    }
    const envelope = JSON.parse(got[2].body);
    expect(envelope).toMatchObject({ id: d.eventId, type: "points.earned", programId: p.programId, data: { memberId: m.id, points: 100 } });
    expect(got[0].body).toBe(got[2].body);

    const log = await call("GET", `/v1/webhooks/${webhook.id}/deliveries`, { key: p.keys.admin });
    expect(log.status).toBe(200);
    expect(log.body.data).toHaveLength(1);
    expect(log.body.data[0]).toMatchObject({ id: d.id, status: "delivered", attempts: 3, lastStatusCode: 200, payload: envelope });
    const ok = await call("GET", `/v1/webhooks/${webhook.id}/deliveries?status=failed`, { key: p.keys.admin });
    expect(ok.body.data).toHaveLength(0);

    // Running the pipeline again sends nothing more (at-least-once, not at-many).
    await tick(new Date(t1.getTime() + 60 * MINUTE));
    expect(await received(bucket)).toHaveLength(3);
  });

  it("a redirect is a failed attempt, recorded and never followed", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.*"]);
    const elsewhere = uniqueKey("elsewhere");
    await script(bucket, [], 307, bucketUrl(elsewhere));
    expect((await accrue(p, m.id, 10_000)).status).toBe(201);
    await tick(new Date());
    const [d] = await deliveries(webhook.id);
    expect(d).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: 307 });
    const log = await call("GET", `/v1/webhooks/${webhook.id}/deliveries`, { key: p.keys.admin });
    expect(log.body.data[0].lastError).toMatch(/^HTTP 307: redirect to .* not followed/);
    expect(await received(bucket)).toHaveLength(1);
    expect(await received(elsewhere)).toHaveLength(0);
  });

  it("follows the whole retry schedule, gives up after the last attempt, and redelivers on request", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.earned"]);
    await script(bucket, [], 500);
    await accrue(p, m.id, 1_000);
    let at = new Date();
    await tick(at);
    const delays: number[] = [];
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const [d] = await deliveries(webhook.id);
      expect(d).toMatchObject({ status: "pending", attempts: attempt });
      const next = Date.parse(d.nextAttemptAt!);
      delays.push((next - at.getTime()) / MINUTE);
      at = new Date(next + 1000);
      await tick(at);
    }
    const [last] = await deliveries(webhook.id);
    expect(last).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, nextAttemptAt: null, lastStatusCode: 500 });
    delays.forEach((minutes, i) => {
      expect(minutes).toBeGreaterThanOrEqual(RETRY_SCHEDULE_MINUTES[i] * 0.8 - 0.1);
      expect(minutes).toBeLessThanOrEqual(RETRY_SCHEDULE_MINUTES[i] * 1.2 + 0.1);
    });
    expect(await received(bucket)).toHaveLength(MAX_ATTEMPTS);
    expect((await webhookRow(webhook.id)).status).toBe("active");

    await script(bucket, [], 204);
    const again = await call("POST", `/v1/webhooks/${webhook.id}/deliveries/${last.id}/redeliver`, { key: p.keys.admin });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: last.id, status: "delivered", attempts: 1, lastStatusCode: 204 });
    expect((await webhookRow(webhook.id)).consecutiveFailures).toBe(0);
    expect((await call("POST", `/v1/webhooks/${webhook.id}/deliveries/dlv_nope/redeliver`, { key: p.keys.admin })).status).toBe(404);
    const audit = await call("GET", `/v1/audit?entityType=webhook_delivery&entityId=${last.id}`, { key: p.keys.admin });
    expect(audit.body.data[0].action).toBe("webhook.delivery.redelivered");
  });

  it(`disables a webhook after ${DISABLE_AFTER_CONSECUTIVE_FAILURES} consecutive failures, parks its deliveries, and resumes them when re-enabled`, async () => {
    const p = await newProgram({ basePointsPerUnit: 1 });
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.*"]);
    await script(bucket, [], 500);
    for (let i = 0; i < DISABLE_AFTER_CONSECUTIVE_FAILURES; i++) {
      const adj = await call("POST", `/v1/members/${m.id}/adjustments`, {
        key: p.keys.admin,
        idempotencyKey: uniqueKey("adj"),
        body: { points: 1, reason: `goodwill ${i}` },
      });
      expect(adj.status).toBe(201);
    }
    const t0 = new Date();
    await tick(t0);
    const w = await webhookRow(webhook.id);
    expect(w.status).toBe("disabled");
    expect(w.consecutiveFailures).toBe(DISABLE_AFTER_CONSECUTIVE_FAILURES);
    expect(w.disabledReason).toMatch(/consecutive failed deliveries/);
    const parked = await deliveries(webhook.id);
    expect(parked).toHaveLength(DISABLE_AFTER_CONSECUTIVE_FAILURES);
    expect(parked.every((d) => d.status === "pending" && d.nextAttemptAt === null && d.attempts === 1)).toBe(true);
    const shown = await call("GET", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin });
    expect(shown.body).toMatchObject({ status: "disabled", consecutiveFailures: DISABLE_AFTER_CONSECUTIVE_FAILURES });

    // While disabled: nothing is sent, new events are not queued for it, redelivery is refused.
    await call("POST", `/v1/members/${m.id}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey("adj"),
      body: { points: 1, reason: "while disabled" },
    });
    await tick(new Date(t0.getTime() + 30 * MINUTE));
    expect(await received(bucket)).toHaveLength(DISABLE_AFTER_CONSECUTIVE_FAILURES);
    expect(await deliveries(webhook.id)).toHaveLength(DISABLE_AFTER_CONSECUTIVE_FAILURES);
    const refused = await call("POST", `/v1/webhooks/${webhook.id}/deliveries/${parked[0].id}/redeliver`, { key: p.keys.admin });
    expect(refused.status).toBe(409);

    await script(bucket, [], 200);
    const enabled = await call("PATCH", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin, body: { status: "active" } });
    expect(enabled.body).toMatchObject({ status: "active", consecutiveFailures: 0, disabledReason: null });
    await tick(new Date());
    const after = await deliveries(webhook.id);
    expect(after.every((d) => d.status === "delivered" && d.attempts === 2)).toBe(true);
    expect(await received(bucket)).toHaveLength(2 * DISABLE_AFTER_CONSECUTIVE_FAILURES);
  });

  it("a 410 Gone disables the webhook at once and parks its other deliveries", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.*"]);
    await script(bucket, [410], 200);
    await accrue(p, m.id, 1_000);
    await tick(new Date());
    const [gone] = await deliveries(webhook.id);
    expect(gone).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 410, nextAttemptAt: null });
    expect(await webhookRow(webhook.id)).toMatchObject({ status: "disabled", disabledReason: expect.stringMatching(/410 Gone/) });
    // Later events are not queued for it, and nothing more is sent.
    await accrue(p, m.id, 1_000);
    await tick(new Date(Date.now() + 10 * MINUTE));
    expect(await received(bucket)).toHaveLength(1);
    expect(await deliveries(webhook.id)).toHaveLength(1);
    // Re-enabled by an admin, it receives again.
    await call("PATCH", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin, body: { status: "active" } });
    await accrue(p, m.id, 1_000);
    await tick(new Date());
    expect((await deliveries(webhook.id)).map((d) => d.status)).toEqual(["failed", "delivered"]);
  });

  it("a subscription from before Standard Webhooks keeps X-Loyalty-Signature until its owner switches it", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.earned"]);
    // As the migration leaves an existing row: the column default, and a secret of the old format.
    const oldSecret = "whsec_0123456789abcdefghjkmnpqrstvwxyz01234567";
    await db().$client.execute({
      sql: "UPDATE webhooks SET scheme = 'x-loyalty-signature', secret = ? WHERE id = ?",
      args: [oldSecret, webhook.id],
    });
    expect((await call("GET", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin })).body.scheme).toBe("x-loyalty-signature");
    await accrue(p, m.id, 1_000);
    await tick(new Date());
    const [legacy] = await received(bucket);
    expect(legacy.headers["webhook-signature"]).toBeUndefined();
    expect(parseLegacySignatureHeader(legacy.headers["x-loyalty-signature"])!.signatures).toHaveLength(1);
    expect(
      (await verifyLegacySignature({ header: legacy.headers["x-loyalty-signature"], body: legacy.body, secrets: [oldSecret] })).ok,
    ).toBe(true);

    // Switching needs no new secret: the old one works with any Standard Webhooks library.
    const switched = await call("PATCH", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin, body: { scheme: "standard-webhooks" } });
    expect(switched.body.scheme).toBe("standard-webhooks");
    await accrue(p, m.id, 1_000);
    await tick(new Date());
    const standard = (await received(bucket))[1];
    expect(standard.headers["x-loyalty-signature"]).toBeUndefined();
    expect(verifyAsPartner(standard, oldSecret)).toMatchObject({ type: "points.earned" });
    expect((await call("PATCH", `/v1/webhooks/${webhook.id}`, { key: p.keys.admin, body: { scheme: "hmac" } })).status).toBe(400);
  });

  it("signs with both secrets during the 24 h rotation overlap, then with the new one only", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.earned"]);
    const rotated = await call("POST", `/v1/webhooks/${webhook.id}/rotate-secret`, { key: p.keys.admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    expect(Date.parse(rotated.body.previousSecretValidUntil) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    await accrue(p, m.id, 1_000);
    await tick(new Date());
    const [during] = await received(bucket);
    expect(during.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
    // A receiver still on the old secret and one already on the new both verify.
    expect(verifyAsPartner(during, webhook.secret)).toBeTruthy();
    expect(verifyAsPartner(during, rotated.body.secret)).toBeTruthy();

    await accrue(p, m.id, 1_000);
    await tick(new Date(Date.now() + 25 * 3600_000));
    const after = (await received(bucket))[1];
    expect(after.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(() => verifyAsPartner(after, webhook.secret)).toThrow(/No matching signature/);
    expect(verifyAsPartner(after, rotated.body.secret)).toBeTruthy();
    const audit = await call("GET", `/v1/audit?entityType=webhook&entityId=${webhook.id}`, { key: p.keys.admin });
    expect(audit.body.data[0].action).toBe("webhook.secret_rotated");
    expect(JSON.stringify(audit.body)).not.toContain(rotated.body.secret);
  });

  it("matches event types exactly, by family and by *, only for active webhooks and only for events after they were created", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const early = await accrue(p, m.id, 1_000); // before any webhook exists
    expect(early.status).toBe(201);
    const exact = await subscribe(p, ["points.earned"]);
    const family = await subscribe(p, ["points.*"]);
    const all = await subscribe(p, ["*"]);
    const other = await subscribe(p, ["tier.changed"]);
    const off = await subscribe(p, ["*"]);
    await call("PATCH", `/v1/webhooks/${off.webhook.id}`, { key: p.keys.admin, body: { status: "disabled" } });
    await accrue(p, m.id, 1_000);
    const redeemed = await call("POST", `/v1/members/${m.id}/redemptions`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey(),
      body: { points: 5, reason: "checkout" },
    });
    expect(redeemed.status).toBe(201);
    await tick(new Date());
    const types = async (w: { webhook: { id: string } }) => (await deliveries(w.webhook.id)).map((d) => d.eventType).sort();
    expect(await types(exact)).toEqual(["points.earned"]);
    expect(await types(family)).toEqual(["points.earned", "points.redeemed"]);
    const everything = await types(all);
    expect(everything).toEqual(expect.arrayContaining(["points.earned", "points.redeemed"]));
    expect(everything).not.toContain("member.created"); // happened before the webhook existed
    expect(await types(other)).toEqual([]);
    expect(await types(off)).toEqual([]);
    // Dispatching again never duplicates a delivery.
    await dispatchOutbox(directEnv, new Date(), 500);
    expect(await types(exact)).toEqual(["points.earned"]);
  });

  it("delivers through the Cloudflare Queue when the binding exists", async () => {
    expect(testEnv.WEBHOOK_QUEUE).toBeDefined();
    const p = await newProgram();
    const m = await newMember(p);
    const { bucket, webhook } = await subscribe(p, ["points.earned"]);
    await accrue(p, m.id, 2_000);
    const result = await runScheduled("* * * * *", testEnv, new Date());
    expect(result["webhooks.deliver"]).toMatchObject({ enqueued: expect.any(Number) });
    let rows = await deliveries(webhook.id);
    for (let i = 0; i < 100 && rows[0]?.status !== "delivered"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await deliveries(webhook.id);
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
    const [got] = await received(bucket);
    expect(verifyAsPartner(got, webhook.secret)).toMatchObject({ type: "points.earned" });
  });

  it("keeps each program's webhooks and deliveries to itself", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const mb = await newMember(b);
    const { webhook } = await subscribe(b, ["*"]);
    await accrue(b, mb.id, 1_000);
    await tick(new Date());
    const [d] = await deliveries(webhook.id);
    expect(d).toBeDefined();
    for (const [method, path, body] of [
      ["GET", `/v1/webhooks/${webhook.id}`],
      ["PATCH", `/v1/webhooks/${webhook.id}`, { status: "disabled" }],
      ["DELETE", `/v1/webhooks/${webhook.id}`],
      ["POST", `/v1/webhooks/${webhook.id}/rotate-secret`],
      ["GET", `/v1/webhooks/${webhook.id}/deliveries`],
      ["POST", `/v1/webhooks/${webhook.id}/deliveries/${d.id}/redeliver`],
    ] as Array<[string, string, unknown?]>) {
      const res = await call(method, path, { key: a.keys.admin, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", "/v1/webhooks", { key: a.keys.admin })).body.data).toEqual([]);
    expect(await webhookRow(webhook.id)).toMatchObject({ status: "active" });
  });
});
