import { describe, expect, it } from "vitest";
import { call, callDirect, newProgram, partnerSignature, uniqueKey } from "../helpers";

const fromAddress = (address: string) => ({ "cf-connecting-ip": address });

describe("failed authentications are throttled per client address", () => {
  it("answers 429 after the allowance of bad keys, without touching other addresses or valid keys", async () => {
    const p = await newProgram();
    const attacker = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    // The shop's own key, used from that address before: cached, it keeps working during a block.
    expect((await call("GET", "/v1/members?externalId=x", { key: p.keys.storefront, headers: fromAddress(attacker) })).status).toBe(404);
    const statuses: number[] = [];
    let throttled: Awaited<ReturnType<typeof call>> | undefined;
    // AUTH_FAILURES_PER_MINUTE defaults to 30: every made-up key costs one.
    for (let i = 0; i < 40; i++) {
      const res = await call("GET", "/v1/members?externalId=x", { key: `le_store_${uniqueKey("guess")}`, headers: fromAddress(attacker) });
      statuses.push(res.status);
      if (res.status === 429) throttled ??= res;
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    // The bucket refills (30 a minute) while the loop runs, so the first 429 may come a little later.
    const firstThrottled = statuses.indexOf(429);
    expect(firstThrottled).toBeGreaterThanOrEqual(30);
    expect(statuses[firstThrottled + 1] ?? 429).toBe(429); // then refused without a key lookup
    expect(throttled!.body.error.code).toBe("rate_limited");
    expect(throttled!.body.error.message).toMatch(/failed authentications/);
    expect(Number(throttled!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    // A real key from the same address still works; another address is still told 401.
    const valid = await call("GET", "/v1/members?externalId=x", { key: p.keys.storefront, headers: fromAddress(attacker) });
    expect(valid.status).toBe(404);
    const other = await call("GET", "/v1/members?externalId=x", { key: "le_store_nope", headers: fromAddress("198.51.100.7") });
    expect(other.status).toBe(401);
  });

  it("counts revoked keys as failures too", async () => {
    const p = await newProgram();
    const address = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    const created = await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: "old", scope: "storefront" } });
    expect((await call("DELETE", `/v1/keys/${created.body.id}`, { key: p.keys.admin })).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await call("GET", "/v1/members?externalId=x", { key: created.body.secret, headers: fromAddress(address) })).status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses).toContain(429);
  });
});

describe("a partner batch pays one rate-limit token per event", () => {
  it("a 50-event batch on a 60/min key leaves 10 requests, and a batch above the limit is refused whole", async () => {
    const p = await newProgram();
    const key = (await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: "pos", scope: "partner", rateLimitPerMinute: 60 } }))
      .body.secret as string;
    const post = async (events: unknown[]) => {
      const raw = JSON.stringify({ events });
      const headers = {
        "content-type": "application/json",
        ...partnerSignature(p.partnerSigningSecret, raw),
      };
      return call("POST", "/v1/partner/events", { key, rawBody: raw, headers });
    };
    const activity = () => ({ eventId: uniqueKey("evt"), type: "activity", externalId: uniqueKey("cust"), kind: "store_visit" });

    const tooBig = await post(Array.from({ length: 61 }, activity));
    expect(tooBig.status).toBe(429);
    expect(tooBig.body.error.message).toMatch(/batch of 61 events exceeds this key's limit of 60 per minute/);

    const batch = await post(Array.from({ length: 50 }, activity));
    expect(batch.status).toBe(200);
    expect(batch.body.results).toHaveLength(50);
    // The refused batch's request and this one's 50 events leave about 9 of 60 (a batch that
    // cost one token would leave 58); the bucket refills 1/s meanwhile.
    expect(Number(batch.headers.get("ratelimit-remaining"))).toBeLessThanOrEqual(20);
    const after = await Promise.all(Array.from({ length: 30 }, () => callDirect("GET", "/v1/members?externalId=x", { key })));
    expect(after.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  });
});
