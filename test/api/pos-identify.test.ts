// POS identification: by phone (normalised to E.164, per program, partner keys only the members
// they touched) and by a rotating member code (TOTP-like, per-program sealed secret, ±1 step).
import { describe, expect, it } from "vitest";
import { openSecret, secretContext } from "../../src/lib/secret-box";
import { accrue, call, db, newMember, newProgram, type TestProgram, testEnv, uniqueKey } from "./helpers";

const identify = (key: string, body: unknown) => call("POST", "/v1/members/identify", { key, body });

async function partnerKey(p: TestProgram) {
  const res = await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: uniqueKey("partner"), scope: "partner" } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.secret as string;
}

async function memberToken(p: TestProgram, memberId: string) {
  const res = await call("POST", `/v1/members/${memberId}/tokens`, { key: p.keys.storefront, body: { scopes: ["read"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
}

/** The code for `step` computed independently from the published scheme, with the program's secret opened from the database. */
async function codeAtStep(programId: string, memberNumber: number, step: number) {
  const [row] = (
    await db().$client.execute({
      sql: "SELECT json_extract(settings, '$.memberCodeSecret') AS s FROM programs WHERE id = ?",
      args: [programId],
    })
  ).rows;
  const secret = await openSecret(testEnv, String(row.s), secretContext.memberCode(programId));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${programId}:${memberNumber}:${step}`)));
  const o = mac[31] & 0x0f;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return `${memberNumber}${String(bin % 100_000_000).padStart(8, "0")}`;
}
const stepNow = () => Math.floor(Date.now() / 30_000);

describe("POS identification by phone", () => {
  it("normalises to E.164 (national numbers in the program's country) and finds the program's members only", async () => {
    const p = await newProgram();
    expect((await call("PATCH", "/v1/program", { key: p.keys.admin, body: { defaultLocale: "zh-TW" } })).status).toBe(200);
    const m = await newMember(p, { phone: "+886 912-345-678" });
    const national = await newMember(p, { phone: "0987 654 321" });
    const other = await newProgram();
    await newMember(other, { phone: "+886912345678" });

    for (const phone of ["+886912345678", "0912 345 678", "(09) 1234-5678"]) {
      const res = await identify(p.keys.storefront, { phone });
      expect(res.status, `${phone}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.data.map((x: { id: string }) => x.id)).toEqual([m.id]);
    }
    expect((await identify(p.keys.admin, { phone: "+886987654321" })).body.data.map((x: { id: string }) => x.id)).toEqual([national.id]);
    const [row] = (await db().$client.execute({ sql: "SELECT phone_e164 FROM members WHERE id = ?", args: [national.id] })).rows;
    expect(row.phone_e164).toBe("+886987654321");
    // A changed phone is found under its new number only.
    expect((await call("PATCH", `/v1/members/${m.id}`, { key: p.keys.admin, body: { phone: "+886911111111" } })).status).toBe(200);
    expect((await identify(p.keys.storefront, { phone: "+886912345678" })).body.data).toEqual([]);
    expect((await identify(p.keys.storefront, { phone: "0911 111 111" })).body.data).toHaveLength(1);
    // Not a phone number, or both ways at once: 400.
    expect((await identify(p.keys.storefront, { phone: "hello" })).status).toBe(400);
    expect((await identify(p.keys.storefront, { phone: "+886912345678", code: "123456789" })).status).toBe(400);
  });

  it("a partner key finds only the members it touched", async () => {
    const p = await newProgram();
    const partner = await partnerKey(p);
    const m = await newMember(p, { phone: "+14155550123" });
    expect((await identify(partner, { phone: "+14155550123" })).body.data).toEqual([]);
    const sale = await call("POST", `/v1/members/${m.id}/accruals`, {
      key: partner,
      idempotencyKey: uniqueKey(),
      body: { orderId: uniqueKey("o"), amount: 1_000, currency: "USD" },
    });
    expect(sale.status).toBe(201);
    expect((await identify(partner, { phone: "+14155550123" })).body.data.map((x: { id: string }) => x.id)).toEqual([m.id]);
    // Another partner of the same program still sees nothing.
    expect((await identify(await partnerKey(p), { phone: "+14155550123" })).body.data).toEqual([]);
  });
});

describe("POS identification by rotating member code", () => {
  it("the member's token gets a code; the POS identifies the member by it; ±1 step accepted, older or forged refused", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    await accrue(p, m.id, 5_000);
    const token = await memberToken(p, m.id);
    const shown = await call("GET", "/v1/me/code", { key: token });
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    expect(shown.body).toMatchObject({ periodSeconds: 30, memberNumber: expect.any(Number) });
    expect(shown.body.code).toMatch(/^[1-9]\d{8,}$/);
    expect(shown.body.code.startsWith(String(shown.body.memberNumber))).toBe(true);
    expect(Date.parse(shown.body.refreshAt)).toBeGreaterThan(Date.now());

    const found = await identify(p.keys.storefront, { code: shown.body.code });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.data).toHaveLength(1);
    expect(found.body.data[0]).toMatchObject({ id: m.id, balance: { available: 50 } });
    // As typed at a till, with spaces.
    const spaced = shown.body.code.replace(/(\d{4})/g, "$1 ");
    expect((await identify(p.keys.admin, { code: spaced })).body.data[0].id).toBe(m.id);

    // The published scheme, computed here independently: the neighbouring steps pass, two steps away does not.
    const n = shown.body.memberNumber as number;
    expect(await codeAtStep(p.programId, n, Date.parse(shown.body.refreshAt) / 30_000 - 1)).toBe(shown.body.code);
    for (const step of [stepNow() - 1, stepNow() + 1])
      expect((await identify(p.keys.storefront, { code: await codeAtStep(p.programId, n, step) })).status).toBe(200);
    for (const step of [stepNow() - 3, stepNow() + 3]) {
      const stale = await identify(p.keys.storefront, { code: await codeAtStep(p.programId, n, step) });
      expect(stale.status).toBe(400);
      expect(stale.body.error.code).toBe("member_code_invalid");
    }
    // Forged: other digits, or the digits moved to another member's number.
    const digits = shown.body.code.slice(-8);
    const flipped = `${n}${digits.slice(0, 7)}${(Number(digits[7]) + 1) % 10}`;
    expect((await identify(p.keys.storefront, { code: flipped })).body.error.code).toBe("member_code_invalid");
    const other = await newMember(p);
    const otherShown = await call("GET", "/v1/me/code", { key: await memberToken(p, other.id) });
    expect(otherShown.body.memberNumber).not.toBe(n);
    expect((await identify(p.keys.storefront, { code: `${otherShown.body.memberNumber}${digits}` })).body.error.code).toBe(
      "member_code_invalid",
    );
    expect((await identify(p.keys.storefront, { code: "12" })).status).toBe(400);
  });

  it("a code from another program is refused; a code is only for its own member token; only keys identify", async () => {
    const [p, q] = [await newProgram(), await newProgram()];
    const m = await newMember(p);
    const token = await memberToken(p, m.id);
    const { code } = (await call("GET", "/v1/me/code", { key: token })).body;
    const inQ = await identify(q.keys.storefront, { code });
    expect(inQ.status).toBe(400);
    expect(inQ.body.error.code).toBe("member_code_invalid");
    // Once q has a secret of its own (a member of q asked for a code), p's code still fails there.
    const n = await newMember(q);
    expect((await call("GET", "/v1/me/code", { key: await memberToken(q, n.id) })).status).toBe(200);
    expect((await identify(q.keys.admin, { code })).body.error.code).toBe("member_code_invalid");
    // The code route is the member token's; identifying is the POS's (a key's).
    expect((await call("GET", "/v1/me/code", { key: p.keys.storefront })).status).toBeGreaterThanOrEqual(400);
    expect((await call("GET", "/v1/me/code", {})).status).toBe(401);
    expect((await identify(token, { code })).status).toBe(403);
  });

  it("a partner key identifies a member by their code (the member showed it) and may then read them; a merged member's code names the member it joined", async () => {
    const p = await newProgram();
    const partner = await partnerKey(p);
    const m = await newMember(p);
    const token = await memberToken(p, m.id);
    const { code } = (await call("GET", "/v1/me/code", { key: token })).body;
    expect((await call("GET", `/v1/members/${m.id}`, { key: partner })).status).toBe(404);
    const found = await identify(partner, { code });
    expect(found.status).toBe(200);
    expect(found.body.data[0].id).toBe(m.id);
    expect((await call("GET", `/v1/members/${m.id}`, { key: partner })).status).toBe(200);

    const stayer = await newMember(p);
    const merged = await call("POST", `/v1/members/${stayer.id}/merge`, {
      key: p.keys.admin,
      idempotencyKey: uniqueKey(),
      body: { from: m.id },
    });
    expect(merged.status).toBe(200);
    const after = await identify(p.keys.storefront, { code });
    expect(after.body.data.map((x: { id: string }) => x.id)).toEqual([stayer.id]);
    // The tombstone's member token is refused, so it gets no new code.
    expect((await call("GET", "/v1/me/code", { key: token })).status).toBe(401);
  });
});
