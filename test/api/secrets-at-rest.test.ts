import { describe, expect, it } from "vitest";
import { runScheduled } from "../../src/cron/schedule";
import { type Env, settingsOf } from "../../src/env";
import { sealSecret, secretContext } from "../../src/lib/secret-box";
import { legacySignatureHeader } from "../../src/lib/signing";
import { resealSecrets } from "../../src/services/operations/reseal-secrets";
import { partnerSigningSecrets } from "../../src/services/partner/events";
import { searchWholeDatabase } from "../support/whole-database-search";
import { call, db, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const run = async (sql: string, args: unknown[] = []) =>
  (await db().$client.execute({ sql, args: args as never })).rows as unknown as Array<Record<string, unknown>>;

/** Every stored secret of a program, as the raw rows hold them: where, and the value. */
async function storedSecrets(programId: string) {
  const [program] = await run(
    `SELECT json_extract(settings, '$.partnerSigningSecret') AS current, json_extract(settings, '$.partnerSigningSecretPrevious') AS previous,
            json_extract(settings, '$.channels.email.secret') AS email, json_extract(settings, '$.channels.sms.secret') AS sms,
            json_extract(settings, '$.widgetSecret') AS widget, json_extract(settings, '$.widgetSecretPrevious') AS widgetPrevious,
            json_extract(settings, '$.memberTokenKey') AS memberToken, json_extract(settings, '$.memberTokenKeyPrevious') AS memberTokenPrevious
     FROM programs WHERE id = ?`,
    [programId],
  );
  const hooks = await run("SELECT id, secret, previous_secret FROM webhooks WHERE program_id = ?", [programId]);
  return [
    ...Object.entries(program).map(([k, v]) => ({ where: `programs.settings ${k}`, value: v as string | null })),
    ...hooks.flatMap((h) => [
      { where: `webhooks.secret ${h.id}`, value: h.secret as string | null },
      { where: `webhooks.previous_secret ${h.id}`, value: h.previous_secret as string | null },
    ]),
  ].filter((s): s is { where: string; value: string } => typeof s.value === "string");
}

/** A partner event signed with `secret`, as a partner would send it. */
async function partnerEvent(p: TestProgram, secret: string) {
  const raw = JSON.stringify({
    eventId: uniqueKey("evt"),
    type: "sale",
    externalId: uniqueKey("cust"),
    orderId: uniqueKey("o"),
    amount: 1000,
    currency: "USD",
  });
  return call("POST", "/v1/partner/events", {
    key: p.keys.partner,
    rawBody: raw,
    headers: { "content-type": "application/json", "x-loyalty-signature": await legacySignatureHeader([secret], raw) },
  });
}

/** A program with one of every secret the engine keeps, current and previous; the secrets in the clear as the API handed them out. */
async function programWithEverySecret() {
  const p = await newProgram();
  const issued: string[] = [p.partnerSigningSecret];
  const rotated = await call("POST", "/v1/partner/signing-secret/rotate", { key: p.keys.admin });
  expect(rotated.status).toBe(200);
  issued.push(rotated.body.secret);
  const hook = await call("POST", "/v1/webhooks", {
    key: p.keys.admin,
    body: { url: "https://partner.example.com/hook", eventTypes: ["*"] },
  });
  expect(hook.status).toBe(201);
  issued.push(hook.body.secret);
  const hookRotated = await call("POST", `/v1/webhooks/${hook.body.id}/rotate-secret`, { key: p.keys.admin });
  issued.push(hookRotated.body.secret);
  for (const channel of ["email", "sms"]) {
    const put = await call("PUT", `/v1/channels/${channel}`, {
      key: p.keys.admin,
      body: { url: `https://partner.example.com/${channel}` },
    });
    expect(put.status).toBe(201);
    issued.push(put.body.secret);
  }
  const again = await call("PUT", "/v1/channels/email", {
    key: p.keys.admin,
    body: { url: "https://partner.example.com/email", rotateSecret: true },
  });
  issued.push(again.body.secret);
  for (let i = 0; i < 2; i++) {
    const widget = await call("POST", "/v1/widget/secret/rotate", { key: p.keys.admin });
    expect(widget.status).toBe(200);
    issued.push(widget.body.secret);
  }
  // Member token signing keys are never handed out; a mint creates one, a rotation keeps it as previous.
  const member = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: uniqueKey("cust") } });
  expect((await call("POST", `/v1/members/${member.body.id}/tokens`, { key: p.keys.storefront })).status).toBe(201);
  expect((await call("POST", "/v1/member-tokens/signing-key/rotate", { key: p.keys.admin })).status).toBe(200);
  expect(issued.filter((s) => !/^(psk|whsec|wsk)_/.test(String(s)))).toEqual([]);
  return { p, issued, currentPartnerSecret: rotated.body.secret as string, webhookId: hook.body.id as string };
}

describe("secrets at rest", () => {
  it("a dump of every table holds none of the secrets handed out, and every stored secret is sealed", async () => {
    const { p, issued } = await programWithEverySecret();
    // Whole secrets and their random part without the well-known prefix.
    const needles = issued.flatMap((s) => [s, s.replace(/^(psk|whsec|wsk)_/, "")]);
    const { hits, tables } = await searchWholeDatabase(run, needles);
    expect(tables).toEqual(expect.arrayContaining(["programs", "webhooks", "audit_log"]));
    expect(hits).toEqual([]);

    const stored = await storedSecrets(p.programId);
    // partner current + previous, channel email + sms, webhook current + previous, widget and member token key current + previous
    expect(stored).toHaveLength(10);
    for (const s of stored) expect(s.value, s.where).toMatch(/^sbx1:test1:[\w-]{16}:[\w-]{40,}$/);
  });

  it("no stored value is usable: signing with a raw row is refused, signing with the issued secret is accepted", async () => {
    const { p, currentPartnerSecret } = await programWithEverySecret();
    for (const s of await storedSecrets(p.programId)) {
      const res = await partnerEvent(p, s.value);
      expect(res.status, s.where).toBe(401);
      expect(res.body.error.code).toBe("invalid_signature");
    }
    const ok = await partnerEvent(p, currentPartnerSecret);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it("a sealed value moved to another program's row does not open there", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const [{ sealed }] = await run("SELECT json_extract(settings, '$.partnerSigningSecret') AS sealed FROM programs WHERE id = ?", [
      a.programId,
    ]);
    await run("UPDATE programs SET settings = json_set(settings, '$.partnerSigningSecret', ?) WHERE id = ?", [sealed, b.programId]);
    // The Worker cannot open it for b: the request fails closed rather than accepting a's secret.
    const res = await partnerEvent(b, a.partnerSigningSecret);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("internal_error");
    await expect(partnerSigningSecrets({ env: testEnv, db: db(), requestId: "t" }, b.programId)).rejects.toThrow(/does not open/);
  });

  it("rotation: values under the previous key (or in the clear) still open, the reseal job moves them to the current key, then the previous key can go", async () => {
    const previousKey = "old0:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const currentKey = testEnv.SECRETS_KEK as string;
    const p = await newProgram();
    const partnerSecret = "psk_rotationtestrotationtestrotationtest00";
    const hook = await call("POST", "/v1/webhooks", {
      key: p.keys.admin,
      body: { url: "https://partner.example.com/hook", eventTypes: ["*"] },
    });
    // As a deployment that sealed under the previous key left them, and one webhook secret from before sealing.
    const oldEnv = { ...testEnv, SECRETS_KEK: previousKey } as Env;
    await run("UPDATE programs SET settings = json_set(settings, '$.partnerSigningSecret', ?) WHERE id = ?", [
      await sealSecret(oldEnv, partnerSecret, secretContext.partner(p.programId)),
      p.programId,
    ]);
    await run("UPDATE webhooks SET secret = ? WHERE id = ?", [hook.body.secret, hook.body.id]);

    const rotating = { ...testEnv, SECRETS_KEK: currentKey, SECRETS_KEK_PREVIOUS: previousKey } as Env;
    const ctx = (env: Env) => ({ env, db: db(), requestId: "t" });
    expect(await partnerSigningSecrets(ctx(rotating), p.programId)).toEqual([partnerSecret]);
    await expect(partnerSigningSecrets(ctx(testEnv), p.programId)).rejects.toThrow(/not configured/);

    // (Another test's cron run may reseal the clear one first: the end state is what counts.)
    await resealSecrets(rotating, 500);
    for (const s of await storedSecrets(p.programId)) expect(s.value, s.where).toMatch(/^sbx1:test1:/);
    // The previous key is no longer needed: the Worker (current key only) accepts the partner's secret.
    expect(await partnerSigningSecrets(ctx(testEnv), p.programId)).toEqual([partnerSecret]);
    expect((await partnerEvent(p, partnerSecret)).status).toBe(201);
    // And nothing of this program is left for the job; a value under a key that is gone is reported, not guessed at.
    expect(await storedSecrets(p.programId)).not.toContainEqual(
      expect.objectContaining({ value: expect.stringMatching(/^(?!sbx1:test1:)/) }),
    );
    await run("UPDATE webhooks SET previous_secret = ? WHERE id = ?", [
      await sealSecret(oldEnv, "whsec_gone", secretContext.webhook(hook.body.id)),
      hook.body.id,
    ]);
    expect((await resealSecrets(testEnv, 500)).unopenable).toBeGreaterThanOrEqual(1);
    await run("UPDATE webhooks SET previous_secret = NULL WHERE id = ?", [hook.body.id]);
  });

  it("a deployment on a remote database without SECRETS_KEK fails loudly; a malformed key too", () => {
    const remote = { ...testEnv, LIBSQL_URL: "libsql://loyalty-prod.turso.io", SECRETS_KEK: undefined } as Env;
    expect(() => settingsOf(remote)).toThrow(/SECRETS_KEK must be set/);
    expect(() => settingsOf({ ...remote, SECRETS_KEK: "k1:too-short" } as Env)).toThrow(/<key id>:<32 random bytes/);
    expect(() => settingsOf({ ...remote, SECRETS_KEK: testEnv.SECRETS_KEK } as Env)).not.toThrow();
  });

  it("the reseal job runs every five minutes", async () => {
    const results = await runScheduled("*/5 * * * *", testEnv, new Date());
    expect(results["secrets.reseal"]).toEqual({ resealed: expect.any(Number), unopenable: expect.any(Number) });
  });
});
