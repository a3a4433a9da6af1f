import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto";
import {
  LEGACY_SIGNATURE_HEADER,
  legacySignatureHeader,
  newSigningSecret,
  parseLegacySignatureHeader,
  STANDARD_HEADERS,
  signedHeaders,
  standardKey,
  standardSignatureHeaders,
  verifyInboundSignature,
  verifyLegacySignature,
  verifyStandardSignature,
} from "../../src/lib/signing";
import { MAX_ATTEMPTS, RETRY_SCHEDULE_MINUTES, retryDelayMs } from "../../src/services/webhooks/delivery";

const body = JSON.stringify({ eventId: "e-1", type: "sale", amount: 1000 });
const now = new Date("2026-05-01T12:00:00Z");
const t = Math.floor(now.getTime() / 1000);

describe("X-Loyalty-Signature (deprecated scheme)", () => {
  it("signs t.body with HMAC-SHA256 and verifies it", async () => {
    const header = await legacySignatureHeader(["secret-a"], body, t);
    expect(header).toBe(`t=${t},v1=${await hmacSha256Hex("secret-a", `${t}.${body}`)}`);
    expect(await verifyLegacySignature({ header, body, secrets: ["secret-a"], now })).toEqual({ ok: true, timestamp: t });
  });

  it("matches a known vector", async () => {
    // printf '%s' '1767225600.{"a":1}' | openssl dgst -sha256 -hmac 'psk_test' -hex
    expect(await hmacSha256Hex("psk_test", '1767225600.{"a":1}')).toBe("f26ab3aa18349a1879134b0f797ec37d0c75ce57d07493b5aa27f73cbda3565b");
  });

  it("rejects a tampered body, a wrong secret, a missing or malformed header", async () => {
    const header = await legacySignatureHeader(["secret-a"], body, t);
    expect(await verifyLegacySignature({ header, body: body.replace("1000", "9000"), secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyLegacySignature({ header, body, secrets: ["secret-b"], now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyLegacySignature({ header, body, secrets: [], now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyLegacySignature({ header: undefined, body, secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "missing",
    });
    expect(await verifyLegacySignature({ header: "v1=abc", body, secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "malformed",
    });
    expect(await verifyLegacySignature({ header: `t=${t},v1=not-hex`, body, secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "malformed",
    });
  });

  it("rejects timestamps more than 5 minutes away in either direction (replay)", async () => {
    for (const skew of [-301, 301]) {
      const header = await legacySignatureHeader(["secret-a"], body, t + skew);
      expect(await verifyLegacySignature({ header, body, secrets: ["secret-a"], now })).toMatchObject({ ok: false, reason: "expired" });
    }
    for (const skew of [-299, 299]) {
      const header = await legacySignatureHeader(["secret-a"], body, t + skew);
      expect((await verifyLegacySignature({ header, body, secrets: ["secret-a"], now })).ok).toBe(true);
    }
  });

  it("accepts any of several v1 signatures and any of several secrets (rotation overlap)", async () => {
    const both = await legacySignatureHeader(["new", "old"], body, t);
    expect(parseLegacySignatureHeader(both)?.signatures).toHaveLength(2);
    expect((await verifyLegacySignature({ header: both, body, secrets: ["old"], now })).ok).toBe(true);
    expect((await verifyLegacySignature({ header: both, body, secrets: ["new"], now })).ok).toBe(true);
    const oldOnly = await legacySignatureHeader(["old"], body, t);
    expect((await verifyLegacySignature({ header: oldOnly, body, secrets: ["new", "old"], now })).ok).toBe(true);
    expect((await verifyLegacySignature({ header: oldOnly, body, secrets: ["new"], now })).ok).toBe(false);
    // Unknown schemes and spaces are tolerated.
    expect((await verifyLegacySignature({ header: `t=${t}, v0=zzz, ${oldOnly.split(",")[1]}`, body, secrets: ["old"], now })).ok).toBe(
      true,
    );
  });
});

describe("Standard Webhooks, checked against the standardwebhooks npm package", () => {
  const raw = JSON.stringify({ id: "evt_1", type: "points.earned", data: { points: 10 } });

  it("makes whsec_ secrets of 32 random bytes in standard base64, which the library accepts", () => {
    const secrets = new Set(Array.from({ length: 20 }, () => newSigningSecret()));
    expect(secrets.size).toBe(20);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(standardKey(secret)).toHaveLength(32);
      expect(() => new Webhook(secret)).not.toThrow();
    }
    // A partner signing secret from before the standard (psk_…) is not a Standard Webhooks secret.
    expect(standardKey("psk_0123456789abcdefghjkmnpqrstvwxyz0123")).toBeNull();
    expect(standardKey("whsec_not*base64")).toBeNull();
  });

  it("matches a known vector (what the README's openssl example prints)", async () => {
    const headers = await standardSignatureHeaders(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_1", '{"a":1}', 1767225600);
    expect(headers[STANDARD_HEADERS.signature]).toBe("v1,lCbYAEZ+iWYEmDEQUgTSPF7TQpmsKXiGTVeQy7iOKZE=");
    expect(new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").sign("msg_1", new Date(1767225600_000), '{"a":1}')).toBe(
      headers[STANDARD_HEADERS.signature],
    );
  });

  it("signs exactly as the library does, and the library verifies what we sign", async () => {
    const secret = newSigningSecret();
    const at = new Date();
    const headers = await standardSignatureHeaders([secret], "evt_1", raw, Math.floor(at.getTime() / 1000));
    expect(headers[STANDARD_HEADERS.id]).toBe("evt_1");
    expect(headers[STANDARD_HEADERS.timestamp]).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers[STANDARD_HEADERS.signature]).toBe(new Webhook(secret).sign("evt_1", at, raw));
    expect(new Webhook(secret).verify(raw, headers)).toEqual(JSON.parse(raw));
    expect(() => new Webhook(newSigningSecret()).verify(raw, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(raw.replace("10", "99"), headers)).toThrow(/No matching signature/);
  });

  it("during a rotation signs with both secrets, space-separated; a receiver on either verifies", async () => {
    const [fresh, old] = [newSigningSecret(), newSigningSecret()];
    const headers = await signedHeaders("standard-webhooks", { secrets: [fresh, old], id: "evt_2", body: raw });
    expect(headers[STANDARD_HEADERS.signature].split(" ")).toHaveLength(2);
    expect(headers[STANDARD_HEADERS.signature]).toMatch(/^v1,\S+ v1,\S+$/);
    for (const secret of [fresh, old]) expect(new Webhook(secret).verify(raw, headers)).toBeTruthy();
    expect(headers[LEGACY_SIGNATURE_HEADER]).toBeUndefined();
  });

  it("verifies what the library signs; rejects tampering, wrong secrets, replays and malformed headers", async () => {
    const secret = newSigningSecret();
    const at = new Date();
    const now = at;
    const sign = (id: string, when: Date, body = raw) => ({
      id,
      timestamp: String(Math.floor(when.getTime() / 1000)),
      signature: new Webhook(secret).sign(id, when, body),
    });
    expect(await verifyStandardSignature({ ...sign("msg_1", at), body: raw, secrets: [secret], now })).toMatchObject({ ok: true });
    // Any of our secrets (current and previous), any of the signatures sent.
    const two = sign("msg_1", at);
    two.signature = `v1a,ignored ${new Webhook(newSigningSecret()).sign("msg_1", at, raw)} ${two.signature}`;
    expect((await verifyStandardSignature({ ...two, body: raw, secrets: [newSigningSecret(), secret], now })).ok).toBe(true);

    const tampered = await verifyStandardSignature({ ...sign("msg_1", at), body: raw.replace("10", "99"), secrets: [secret], now });
    expect(tampered).toMatchObject({ ok: false, reason: "mismatch" });
    // The id is signed: the same signature under another id does not verify.
    expect(await verifyStandardSignature({ ...sign("msg_1", at), id: "msg_2", body: raw, secrets: [secret], now })).toMatchObject({
      reason: "mismatch",
    });
    expect(await verifyStandardSignature({ ...sign("msg_1", at), body: raw, secrets: [newSigningSecret()], now })).toMatchObject({
      reason: "mismatch",
    });
    // A legacy psk_ secret can never verify a Standard Webhooks signature.
    expect(await verifyStandardSignature({ ...sign("msg_1", at), body: raw, secrets: ["psk_abc"], now })).toMatchObject({
      reason: "mismatch",
    });
    for (const skew of [-301, 301]) {
      const late = sign("msg_1", new Date(at.getTime() + skew * 1000));
      expect(await verifyStandardSignature({ ...late, body: raw, secrets: [secret], now })).toMatchObject({ reason: "expired" });
    }
    expect(await verifyStandardSignature({ ...sign("msg_1", at), signature: undefined, body: raw, secrets: [secret], now })).toMatchObject({
      reason: "missing",
    });
    for (const bad of [{ timestamp: "soon" }, { signature: "v1=abc" }, { signature: "v2,AAAA" }, { id: "x".repeat(300) }]) {
      expect(
        await verifyStandardSignature({ ...sign("msg_1", at), ...bad, body: raw, secrets: [secret], now }),
        JSON.stringify(bad),
      ).toMatchObject({
        reason: "malformed",
      });
    }
  });

  it("inbound: the scheme is recognised by the headers that arrive", async () => {
    const secret = newSigningSecret();
    const at = new Date();
    const standard = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("msg_1", at, raw),
    };
    const legacy = { [LEGACY_SIGNATURE_HEADER]: await legacySignatureHeader([secret], raw) };
    const check = (headers: Record<string, string>) =>
      verifyInboundSignature({ header: (name) => headers[name], body: raw, secrets: [secret] });
    expect(await check(standard)).toMatchObject({ ok: true, scheme: "standard-webhooks" });
    expect(await check(legacy)).toMatchObject({ ok: true, scheme: "x-loyalty-signature" });
    // A webhook-* header means Standard Webhooks: a valid legacy header does not rescue a broken standard one.
    expect(await check({ ...legacy, "webhook-id": "msg_1" })).toMatchObject({ ok: false, reason: "missing", scheme: "standard-webhooks" });
    expect(await check({ ...legacy, ...standard })).toMatchObject({ ok: true, scheme: "standard-webhooks" });
    expect(await check({})).toMatchObject({ ok: false, reason: "missing", scheme: "standard-webhooks" });
  });
});

describe("webhook retry schedule", () => {
  it("backs off exponentially with ±20% jitter over about three days, then gives up", () => {
    const mins = RETRY_SCHEDULE_MINUTES.map((_, i) => retryDelayMs(i + 1, 0.5)! / 60_000);
    expect(mins).toEqual([...RETRY_SCHEDULE_MINUTES]);
    for (let i = 1; i < mins.length; i++) expect(mins[i]).toBeGreaterThanOrEqual(mins[i - 1]);
    const totalDays = mins.reduce((a, b) => a + b, 0) / 1440;
    expect(totalDays).toBeGreaterThan(2.5);
    expect(totalDays).toBeLessThan(3.5);
    expect(retryDelayMs(1, 0)).toBe(48_000);
    expect(retryDelayMs(1, 1)).toBe(72_000);
    expect(retryDelayMs(MAX_ATTEMPTS)).toBeNull();
    expect(retryDelayMs(0)).toBeNull();
  });
});
