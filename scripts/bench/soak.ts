/**
 * A bounded soak: mixed storefront traffic (lookups, balances, quotes, accruals, redemptions)
 * for a fixed time on loopback, sampling the stack's memory; afterwards every member's balance
 * must still equal the sum of their ledger. Used by the bench and by test/stress.
 */
import { sql } from "drizzle-orm";
import { database } from "../../src/db/client";
import { type BenchProgram, twentyItemCart, uniqueId } from "./fixture";
import { api, type LoadStats, runLoad } from "./load";
import { type Stack, stackMemory } from "./stack";

type MemorySample = { atS: number; libsqlMb: number; workerMb: number; proxyMb: number; totalMb: number };
type Part = { libsqlMb: number; workerMb: number; proxyMb: number; totalMb: number };

/**
 * Flat: the peak over the second half of the run within 10 % (plus allocator noise) of the peak
 * over the first half, for what we ship (the libSQL stand-in and the Worker). Peaks, not means, so
 * a one-off step while warming up (the JIT, Durable Objects, a heap growing to its collection
 * threshold) counts only if the run is too short for it to fall in the first half.
 */
export const memoryFlat = (m: { firstHalfPeak: Part; secondHalfPeak: Part }) =>
  m.secondHalfPeak.libsqlMb <= m.firstHalfPeak.libsqlMb * 1.1 + 16 && m.secondHalfPeak.workerMb <= m.firstHalfPeak.workerMb * 1.1 + 16;

export type SoakResult = {
  seconds: number;
  connections: number;
  stats: LoadStats;
  mix: Record<string, number>;
  memory: {
    samples: MemorySample[];
    firstHalfPeak: Part;
    secondHalfPeak: Part;
    growthPct: { libsql: number; worker: number; proxy: number; total: number };
  };
  ledgerMismatches: number;
};

const KINDS = [
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "lookup",
  "balance",
  "quote",
  "quote",
  "accrual",
  "accrual",
  "accrual",
  "accrual",
  "redemption",
] as const;

/** Give every member points to redeem from, so redemptions never run dry during the soak. */
export async function fundMembers(stack: Stack, p: BenchProgram, points = 1_000_000) {
  for (const m of p.members) {
    await api(stack.apiUrl, "POST", `/v1/members/${m}/adjustments`, {
      key: p.keys.admin,
      idempotencyKey: uniqueId("fund"),
      body: { points, reason: "soak float" },
    });
  }
}

export async function runSoak(
  stack: Stack,
  p: BenchProgram,
  opts: { seconds: number; connections: number; sampleEveryS?: number },
): Promise<SoakResult> {
  const key = p.keys.storefront;
  const auth = { authorization: `Bearer ${key}` };
  const mix: Record<string, number> = {};
  const samples: MemorySample[] = [];
  const started = performance.now();
  const sample = () => samples.push({ atS: (performance.now() - started) / 1000, ...stackMemory(stack) });
  sample();
  const timer = setInterval(sample, (opts.sampleEveryS ?? 2) * 1000);
  let stats: LoadStats;
  try {
    stats = await runLoad({
      url: `${stack.apiUrl}/v1/members/${p.members[0]}`,
      connections: opts.connections,
      seconds: opts.seconds,
      vary: (i) => {
        const kind = KINDS[i % KINDS.length];
        const m = p.members[Math.floor(i / KINDS.length) % p.members.length];
        mix[kind] = (mix[kind] ?? 0) + 1;
        const write = { ...auth, "idempotency-key": uniqueId("soak") };
        switch (kind) {
          case "lookup":
            return { path: `/v1/members/${m}`, headers: auth };
          case "balance":
            return { path: `/v1/members/${m}/balance`, headers: auth };
          case "quote":
            return { path: "/v1/quote", headers: auth, body: twentyItemCart(m), method: "POST" };
          case "accrual":
            return {
              path: `/v1/members/${m}/accruals`,
              headers: write,
              body: { orderId: uniqueId("soak-ord"), amount: 2_500, currency: "USD" },
              method: "POST",
            };
          default:
            return { path: `/v1/members/${m}/redemptions`, headers: write, body: { points: 5, reason: "soak" }, method: "POST" };
        }
      },
    });
  } finally {
    clearInterval(timer);
  }
  sample();

  const peak = (from: number, to: number): Part => {
    const picked = samples.filter((x) => x.atS >= from * opts.seconds && x.atS <= to * opts.seconds);
    const max = (f: (x: MemorySample) => number) => Math.max(...picked.map(f));
    return {
      libsqlMb: max((x) => x.libsqlMb),
      workerMb: max((x) => x.workerMb),
      proxyMb: max((x) => x.proxyMb),
      totalMb: max((x) => x.totalMb),
    };
  };
  const firstHalfPeak = peak(0, 0.5);
  const secondHalfPeak = peak(0.5, 1.01);
  const pct = (a: number, b: number) => (100 * (b - a)) / a;

  const db = database(stack.dbEnv);
  const [row] = await db.all<{ n: number }>(sql`
    SELECT COUNT(*) AS n FROM members m
    WHERE m.program_id = ${p.programId}
      AND m.points_balance <> (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e WHERE e.member_id = m.id)`);

  return {
    seconds: opts.seconds,
    connections: opts.connections,
    stats,
    mix,
    memory: {
      samples,
      firstHalfPeak,
      secondHalfPeak,
      growthPct: {
        libsql: pct(firstHalfPeak.libsqlMb, secondHalfPeak.libsqlMb),
        worker: pct(firstHalfPeak.workerMb, secondHalfPeak.workerMb),
        proxy: pct(firstHalfPeak.proxyMb, secondHalfPeak.proxyMb),
        total: pct(firstHalfPeak.totalMb, secondHalfPeak.totalMb),
      },
    },
    ledgerMismatches: Number(row?.n ?? 0),
  };
}
