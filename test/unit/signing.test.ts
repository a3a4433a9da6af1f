import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto";
import { parseSignatureHeader, signatureHeader, verifySignature } from "../../src/lib/signing";
import { MAX_ATTEMPTS, RETRY_SCHEDULE_MINUTES, retryDelayMs } from "../../src/services/webhooks/delivery";

const body = JSON.stringify({ eventId: "e-1", type: "sale", amount: 1000 });
const now = new Date("2026-05-01T12:00:00Z");
const t = Math.floor(now.getTime() / 1000);

describe("signature scheme", () => {
  it("signs t.body with HMAC-SHA256 and verifies it", async () => {
    const header = await signatureHeader(["secret-a"], body, t);
    expect(header).toBe(`t=${t},v1=${await hmacSha256Hex("secret-a", `${t}.${body}`)}`);
    expect(await verifySignature({ header, body, secrets: ["secret-a"], now })).toEqual({ ok: true, timestamp: t });
  });

  it("matches a known vector (what the README's openssl example prints)", async () => {
    // printf '%s' '1767225600.{"a":1}' | openssl dgst -sha256 -hmac 'psk_test' -hex
    expect(await hmacSha256Hex("psk_test", '1767225600.{"a":1}')).toBe("f26ab3aa18349a1879134b0f797ec37d0c75ce57d07493b5aa27f73cbda3565b");
  });

  it("rejects a tampered body, a wrong secret, a missing or malformed header", async () => {
    const header = await signatureHeader(["secret-a"], body, t);
    expect(await verifySignature({ header, body: body.replace("1000", "9000"), secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifySignature({ header, body, secrets: ["secret-b"], now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifySignature({ header, body, secrets: [], now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifySignature({ header: undefined, body, secrets: ["secret-a"], now })).toMatchObject({ ok: false, reason: "missing" });
    expect(await verifySignature({ header: "v1=abc", body, secrets: ["secret-a"], now })).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verifySignature({ header: `t=${t},v1=not-hex`, body, secrets: ["secret-a"], now })).toMatchObject({
      ok: false,
      reason: "malformed",
    });
  });

  it("rejects timestamps more than 5 minutes away in either direction (replay)", async () => {
    for (const skew of [-301, 301]) {
      const header = await signatureHeader(["secret-a"], body, t + skew);
      expect(await verifySignature({ header, body, secrets: ["secret-a"], now })).toMatchObject({ ok: false, reason: "expired" });
    }
    for (const skew of [-299, 299]) {
      const header = await signatureHeader(["secret-a"], body, t + skew);
      expect((await verifySignature({ header, body, secrets: ["secret-a"], now })).ok).toBe(true);
    }
  });

  it("accepts any of several v1 signatures and any of several secrets (rotation overlap)", async () => {
    const both = await signatureHeader(["new", "old"], body, t);
    expect(parseSignatureHeader(both)?.signatures).toHaveLength(2);
    expect((await verifySignature({ header: both, body, secrets: ["old"], now })).ok).toBe(true);
    expect((await verifySignature({ header: both, body, secrets: ["new"], now })).ok).toBe(true);
    const oldOnly = await signatureHeader(["old"], body, t);
    expect((await verifySignature({ header: oldOnly, body, secrets: ["new", "old"], now })).ok).toBe(true);
    expect((await verifySignature({ header: oldOnly, body, secrets: ["new"], now })).ok).toBe(false);
    // Unknown schemes and spaces are tolerated.
    expect((await verifySignature({ header: `t=${t}, v0=zzz, ${oldOnly.split(",")[1]}`, body, secrets: ["old"], now })).ok).toBe(true);
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
