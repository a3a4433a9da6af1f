// Full-size concurrency against a local stack (wrangler dev + libSQL server): rounds of 200 mixed
// writes on one member and 200 across 20 members, a fifth retried concurrently with the same key,
// while the release and expiry crons sweep with future dates. The ledger stays consistent and
// every key is applied exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../scripts/bench/stack";
import { type Database, database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";
import { expireLots, releasePendingLots } from "../../src/services/ledger/lots";
import { extraKeys, isExpectedRefusal, keyProblems, ledgerViolations, mixedOps, type Op, type Outcome } from "./ledger-workload";

const DAY = 86_400_000;
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

// At most this many requests in flight from the test: a burst of 400 new connections at once makes
// wrangler dev's proxy answer some with 503 "restarted mid-request" before they reach the Worker.
const MAX_IN_FLIGHT = 200;
let inFlight = 0;
const waiting: Array<() => void> = [];
let proxyRetries = 0;

async function post(path: string, key: string, idempotencyKey: string, body: unknown) {
  while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  try {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "idempotency-key": idempotencyKey, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      // The dev proxy's own 503 (never the Worker's, which answers JSON): retry with the same key, as a client would.
      if (res.status === 503 && !text.startsWith("{") && attempt < 4) {
        proxyRetries++;
        continue;
      }
      let json: any;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = { unparsed: text.slice(0, 500) }; // not JSON: fails the status checks with the text shown
      }
      return { status: res.status, body: json, replayed: res.headers.get("idempotent-replayed") };
    }
  } finally {
    inFlight--;
    waiting.shift()?.();
  }
}

describe("stress: concurrency", () => {
  it("three rounds of 200 writes on one member and 200 across 20, with retries and sweeps", async () => {
    const created = await createProgram({
      ctx: { env: stack.dbEnv as never, db, requestId: "stress" },
      input: { name: "Stress", holdDays: 2, expiryDays: 20 },
    });
    const keys = {
      storefront: await extraKeys(db, created.programId, "storefront", 8),
      admin: await extraKeys(db, created.programId, "admin", 8),
    };
    let sent = 0;
    const send = async (op: Op): Promise<Outcome & { replayed: string | null }> => ({
      op,
      ...(await post(op.path, keys[op.auth][sent++ % 8], op.key, op.body)),
    });

    const members: string[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await post("/v1/members", keys.storefront[0], uniqueKey("reg"), { externalId: uniqueKey("cust") });
      expect(res.status).toBe(201);
      members.push(res.body.id);
    }
    const [solo, ...crowd] = members;
    const orderIds = new Map<string, string[]>();
    await Promise.all(
      members.map(async (id) => {
        expect(
          (await post(`/v1/members/${id}/adjustments`, keys.admin[0], uniqueKey("float"), { points: 500, reason: "float" })).status,
        ).toBe(201);
        const ids = [uniqueKey("seed-ord"), uniqueKey("seed-ord"), uniqueKey("seed-ord")];
        for (const orderId of ids)
          expect(
            (await post(`/v1/members/${id}/accruals`, keys.storefront[0], uniqueKey("seed"), { orderId, amount: 8_000, currency: "USD" }))
              .status,
          ).toBe(201);
        orderIds.set(id, ids);
      }),
    );

    const all: Outcome[] = [];
    const tally: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      const ops = [...mixedOps([solo], 200, orderIds, uniqueKey), ...mixedOps(crowd, 200, orderIds, uniqueKey)];
      const sweeps = async () => {
        let swept = 0;
        for (let i = 0; i < 5; i++) {
          swept += await releasePendingLots(db, new Date(Date.now() + 2.5 * DAY), 50);
          swept += await expireLots(db, new Date(Date.now() + 21 * DAY), 50);
        }
        return swept;
      };
      const [outcomes, retries] = await Promise.all([
        Promise.all(ops.map(send)),
        Promise.all(ops.filter((_, i) => i % 5 === 0).map(send)),
        sweeps(),
        sweeps(),
      ]);
      for (const o of [...outcomes, ...retries]) {
        tally[o.status] = (tally[o.status] ?? 0) + 1;
        expect(o.status === 201 || isExpectedRefusal(o.status, o.body), `${o.op.kind} → ${o.status} ${JSON.stringify(o.body)}`).toBe(true);
      }
      const byKey = new Map(outcomes.map((o) => [o.op.key, o]));
      const settled = await Promise.all(ops.map(send));
      for (const s of settled) {
        if (byKey.get(s.op.key)!.status === 201) {
          expect(s.body).toEqual(byKey.get(s.op.key)!.body);
          expect(s.replayed).toBe("true");
        }
      }
      all.push(...settled);
      expect(await ledgerViolations(db, created.programId)).toEqual(
        Object.fromEntries(Object.keys(await ledgerViolations(db, created.programId)).map((k) => [k, 0])),
      );
    }
    expect(await keyProblems(db, created.programId, all)).toEqual([]);
    console.log(
      `stress concurrency: ${all.length} writes settled, first-attempt statuses ${JSON.stringify(tally)}, dev-proxy 503s retried: ${proxyRetries}`,
    );
  });
});
