// Checkout holds at full size against a local stack (wrangler dev + libSQL server): rounds of 100
// concurrent reserve/capture/void/expire/reverse chains on one member (test/stress/checkout-workload.ts),
// the expiries by the member's Durable Object alarm. The books stay balanced and every reserve is settled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../scripts/bench/stack";
import { type Database, database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";
import { checkoutChains, reservesSettled } from "./checkout-workload";
import { extraKeys, ledgerViolations } from "./ledger-workload";

let stack: Stack;
let db: Database;
let n = 0;
const uniqueKey = (label: string) => `${label}-${Date.now()}-${++n}`;

beforeAll(async () => {
  stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: "100000000" } });
  db = database(stack.dbEnv);
});
afterAll(async () => {
  if (process.env.STACK_LOG) console.log(stack?.log());
  await stack?.stop();
});

describe("stress: checkout holds", () => {
  it("three rounds of 100 concurrent reserve/capture/void/expire/reverse chains on one member", async () => {
    const created = await createProgram({
      ctx: { env: stack.dbEnv as never, db, requestId: "stress" },
      input: { name: "Holds", holdDays: 0 },
    });
    const [storefront] = await extraKeys(db, created.programId, "storefront", 1);
    const [admin] = await extraKeys(db, created.programId, "admin", 1);
    const send = async (method: "GET" | "POST", path: string, idempotencyKey: string | null, body?: unknown, key = storefront) => {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${stack.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        // The dev proxy's own 503 (never the Worker's JSON): retry with the same key, as a client would.
        if (res.status === 503 && !text.startsWith("{") && attempt < 4) continue;
        return { status: res.status, body: text ? JSON.parse(text) : null };
      }
    };
    const member = await send("POST", "/v1/members", null, { externalId: uniqueKey("cust") });
    expect(member.status).toBe(201);
    const memberId = member.body.id as string;
    const float = await send("POST", `/v1/members/${memberId}/adjustments`, uniqueKey("float"), { points: 5_000, reason: "float" }, admin);
    expect(float.status).toBe(201);
    let keptTotal = 0;
    for (let round = 0; round < 3; round++) {
      const { kept, problems } = await checkoutChains(send, memberId, 100, uniqueKey);
      expect(problems).toEqual([]);
      keptTotal += kept;
      expect(await reservesSettled(db, memberId, 60_000)).toBe(true);
      const violations = await ledgerViolations(db, created.programId);
      expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, 0])));
      const balance = await send("GET", `/v1/members/${memberId}/balance`, null);
      expect(balance.body).toMatchObject({ available: 5_000 - keptTotal, reserved: 0, total: 5_000 - keptTotal });
    }
    console.log(`stress checkout holds: 300 chains settled, ${keptTotal} points kept`);
  });
});
