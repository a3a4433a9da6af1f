// A bounded soak on loopback against a local stack: 180 s (SOAK_SECONDS) of mixed storefront
// traffic at 16 connections. Zero errors, every balance still equal to its ledger, and no growth
// in the stack's memory between the first and the second half of the run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRulesAndTiers, benchProgram } from "../../scripts/bench/fixture";
import { fundMembers, memoryFlat, runSoak } from "../../scripts/bench/soak";
import { type Stack, startStack } from "../../scripts/bench/stack";

// Long enough that the warm-up (JIT, objects, heaps growing to their collection threshold) falls in the first half.
const seconds = Number(process.env.SOAK_SECONDS ?? 180);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: "1000000000" } });
});
afterAll(async () => {
  await stack?.stop();
});

describe("stress: soak", () => {
  it(`${seconds} s of mixed traffic: no errors, ledger consistent, memory flat`, async () => {
    const program = await benchProgram(stack, { members: 16, name: "Soak" });
    await addRulesAndTiers(stack, program);
    await fundMembers(stack, program);
    const soak = await runSoak(stack, program, { seconds, connections: 16 });
    const { firstHalfPeak, secondHalfPeak, growthPct } = soak.memory;
    const mb = (m: typeof firstHalfPeak) =>
      `libSQL ${m.libsqlMb.toFixed(0)}, Worker ${m.workerMb.toFixed(0)}, dev proxy ${m.proxyMb.toFixed(0)} MB`;
    console.log(
      `soak: ${soak.stats.requests} requests in ${soak.stats.seconds.toFixed(0)} s (${soak.stats.rps.toFixed(0)}/s, p50 ${soak.stats.p50.toFixed(1)} ms, p99 ${soak.stats.p99.toFixed(1)} ms), ` +
        `errors ${soak.stats.errors}, mix ${JSON.stringify(soak.mix)}; peak RSS 1st half: ${mb(firstHalfPeak)}; 2nd half: ${mb(secondHalfPeak)} ` +
        `(libSQL ${growthPct.libsql.toFixed(1)}%, Worker ${growthPct.worker.toFixed(1)}%, proxy ${growthPct.proxy.toFixed(1)}%)`,
    );
    expect(soak.stats.errors, JSON.stringify(soak.stats.statusCodes)).toBe(0);
    expect(soak.stats.requests).toBeGreaterThan(seconds * 20);
    expect(soak.ledgerMismatches).toBe(0);
    // Flat for what we ship: the libSQL server and the Worker. wrangler dev's proxy is reported, not
    // judged: it is dev tooling (and grows with every request it forwards).
    expect(memoryFlat(soak.memory), JSON.stringify({ firstHalfPeak, secondHalfPeak })).toBe(true);
  });
});
