/**
 * Accruals while the database is down: the libSQL server's outage fault (every statement request
 * loses its connection unanswered) is switched on, accruals are answered 202 from the members'
 * Durable Objects, then it is switched off and the time until every queue is applied is measured.
 */
import { type BenchProgram, uniqueId } from "./fixture";
import { type LoadOptions, type LoadStats, runLoad } from "./load";
import type { Stack } from "./stack";

export type OutageAccrual = {
  /** Accruals with the database up (201), one connection. */
  online: LoadStats;
  /** Accruals with the database down (202, stored in the member's object), one connection. */
  down: LoadStats;
  /** The same at `connections` connections. */
  downLoaded: LoadStats;
  /** down p50 ÷ online p50. */
  ratioP50: number;
  /** Once the database is back: how many stored accruals, on how many members, applied in how long. */
  drain: { writes: number; members: number; ms: number; membersStillPending: number };
};

const settings = { seconds: 4, rounds: 1, connections: 16 };

async function outage(stack: Stack, on: boolean) {
  const res = await fetch(stack.faultsUrl, {
    method: on ? "POST" : "DELETE",
    headers: { authorization: `Bearer ${stack.dbEnv.LIBSQL_AUTH_TOKEN}`, "content-type": "application/json" },
    body: on ? JSON.stringify({ unavailable: true }) : undefined,
  });
  if (!res.ok) throw new Error(`libSQL outage fault: ${res.status} ${await res.text()}`);
}

/** What a member's object still holds (the member lookup: served by the object, one database read at most). */
async function pendingOf(stack: Stack, p: BenchProgram, memberId: string): Promise<number> {
  try {
    const res = await fetch(`${stack.apiUrl}/v1/members/${memberId}`, {
      headers: { authorization: `Bearer ${p.keys.storefront}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return Number.POSITIVE_INFINITY;
    const body = (await res.json()) as { pendingSync: { accruals: number } };
    return body.pendingSync.accruals;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export async function benchOutageAccrual(stack: Stack, p: BenchProgram, s: typeof settings = settings): Promise<OutageAccrual> {
  const members = p.members;
  const load = (expect: number): Omit<LoadOptions, "connections" | "seconds"> => ({
    url: `${stack.apiUrl}/v1/members/${members[0]}/accruals`,
    method: "POST",
    vary: (i) => ({
      path: `/v1/members/${members[i % members.length]}/accruals`,
      headers: { authorization: `Bearer ${p.keys.storefront}`, "idempotency-key": uniqueId(`idem${expect}`) },
      body: { orderId: uniqueId("ord"), amount: 4_999, currency: "USD" },
    }),
  });
  // Warm (isolate, objects, the key cache the outage then relies on), then the online figure.
  await runLoad({ ...load(201), connections: s.connections, seconds: 1 });
  const online = await runLoad({ ...load(201), connections: 1, seconds: s.seconds });
  await outage(stack, true);
  let down: LoadStats;
  let downLoaded: LoadStats;
  try {
    down = await runLoad({ ...load(202), connections: 1, seconds: s.seconds });
    downLoaded = await runLoad({ ...load(202), connections: s.connections, seconds: s.seconds });
  } finally {
    await outage(stack, false);
  }
  const writes = (down.statusCodes["202"] ?? 0) + (downLoaded.statusCodes["202"] ?? 0);
  const started = performance.now();
  const deadline = started + 300_000;
  let waiting = members;
  // Polled one member at a time, so the polling does not compete with the queues it waits for.
  while (waiting.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const still: string[] = [];
    for (const m of waiting) if ((await pendingOf(stack, p, m)) > 0) still.push(m);
    waiting = still;
  }
  return {
    online,
    down,
    downLoaded,
    ratioP50: down.p50 / online.p50,
    drain: { writes, members: members.length, ms: performance.now() - started, membersStillPending: waiting.length },
  };
}
