/**
 * Request-level benchmarks against the running stack, each a subject route against a baseline
 * on the same Worker, in the same run: latency on one connection with the two interleaved request
 * by request, throughput at N connections with the two alternating; the median over rounds.
 */
import { addRulesAndTiers, type BenchProgram, benchProgram, twentyItemCart, uniqueId } from "./fixture";
import { type LoadOptions, type LoadStats, percentile, runInterleaved, runLoad } from "./load";
import type { Stack } from "./stack";

export type Settings = { seconds: number; rounds: number; connections: number };

type Side = { label: string; serial: LoadStats; loaded: LoadStats };
export type Comparison = {
  name: string;
  subject: Side;
  baseline: Side;
  /** subject ÷ baseline: latency (serial p50, p99) and throughput (loaded req/s). */
  ratios: { p50: number; p99: number; loadedP50: number; rps: number };
  goal?: { metric: "p50"; max: number; pass: boolean };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Per-metric medians over rounds (request counts and errors are summed). */
function combine(runs: LoadStats[]): LoadStats {
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
  return {
    requests: runs.reduce((s, r) => s + r.requests, 0),
    seconds: runs.reduce((s, r) => s + r.seconds, 0),
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p90: median(runs.map((r) => r.p90)),
    p99: median(runs.map((r) => r.p99)),
    mean: median(runs.map((r) => r.mean)),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    statusCodes,
  };
}

type Target = { label: string; load: Omit<LoadOptions, "connections" | "seconds"> };

async function compare(name: string, subject: Target, baseline: Target, s: Settings, goalP50?: number): Promise<Comparison> {
  // Warm both (isolate, Durable Objects, key cache, connections) before measuring.
  await runInterleaved([subject.load, baseline.load], { connections: s.connections, seconds: 1 });
  const runs = {
    subject: { serial: [] as LoadStats[], loaded: [] as LoadStats[] },
    baseline: { serial: [] as LoadStats[], loaded: [] as LoadStats[] },
  };
  for (let round = 0; round < s.rounds; round++) {
    // Latency: one connection, the two routes interleaved request by request.
    const [sub, base] = await runInterleaved([subject.load, baseline.load], { connections: 1, seconds: s.seconds });
    runs.subject.serial.push(sub);
    runs.baseline.serial.push(base);
    // Throughput: each route alone at N connections, the order alternating so drift hits both.
    const order = round % 2 === 0 ? (["baseline", "subject"] as const) : (["subject", "baseline"] as const);
    for (const side of order)
      runs[side].loaded.push(
        await runLoad({ ...(side === "subject" ? subject : baseline).load, connections: s.connections, seconds: s.seconds }),
      );
  }
  const sub: Side = { label: subject.label, serial: combine(runs.subject.serial), loaded: combine(runs.subject.loaded) };
  const base: Side = { label: baseline.label, serial: combine(runs.baseline.serial), loaded: combine(runs.baseline.loaded) };
  const ratios = {
    p50: sub.serial.p50 / base.serial.p50,
    p99: sub.serial.p99 / base.serial.p99,
    loadedP50: sub.loaded.p50 / base.loaded.p50,
    rps: sub.loaded.rps / base.loaded.rps,
  };
  return {
    name,
    subject: sub,
    baseline: base,
    ratios,
    ...(goalP50 ? { goal: { metric: "p50" as const, max: goalP50, pass: ratios.p50 <= goalP50 } } : {}),
  };
}

const noop = (stack: Stack): Target => ({ label: "GET /__bench/noop", load: { url: `${stack.apiUrl}/__bench/noop` } });

export async function benchLookup(stack: Stack, p: BenchProgram, s: Settings) {
  const auth = { authorization: `Bearer ${p.keys.storefront}` };
  const subject: Target = {
    label: "GET /v1/members/{id} (storefront key)",
    load: {
      url: `${stack.apiUrl}/v1/members/${p.members[0]}`,
      headers: auth,
      vary: (i) => ({ path: `/v1/members/${p.members[i % p.members.length]}`, headers: auth }),
    },
  };
  return compare("member lookup vs trivial route", subject, noop(stack), s, 1.5);
}

/** Member tokens (24 h, read) for the first `count` members, minted as a shop's server would. */
async function memberTokens(stack: Stack, p: BenchProgram, count: number) {
  const members = p.members.slice(0, count);
  return Promise.all(
    members.map(async (m) => {
      const res = await fetch(`${stack.apiUrl}/v1/members/${m}/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.keys.storefront}`, "content-type": "application/json" },
        body: JSON.stringify({ ttlSeconds: 86_400 }),
      });
      if (res.status !== 201) throw new Error(`minting a member token: ${res.status} ${await res.text()}`);
      return { member: m, token: ((await res.json()) as { token: string }).token };
    }),
  );
}

/**
 * A browser's balance read with a member token (verify the JWT, the member's status from its
 * object, the per-token rate limit, then the balance) against the trivial route, and against the
 * same read with a storefront key (what the token itself costs).
 */
export async function benchMemberToken(stack: Stack, p: BenchProgram, s: Settings) {
  const tokens = await memberTokens(stack, p, Math.min(64, p.members.length));
  const byToken = (i: number) => tokens[i % tokens.length];
  const withToken: Target = {
    label: "GET /v1/members/{id}/balance (member token)",
    load: {
      url: `${stack.apiUrl}/v1/members/${tokens[0].member}/balance`,
      headers: { authorization: `Bearer ${tokens[0].token}` },
      vary: (i) => ({ path: `/v1/members/${byToken(i).member}/balance`, headers: { authorization: `Bearer ${byToken(i).token}` } }),
    },
  };
  const key = { authorization: `Bearer ${p.keys.storefront}` };
  const withKey: Target = {
    label: "GET /v1/members/{id}/balance (storefront key)",
    load: {
      url: `${stack.apiUrl}/v1/members/${tokens[0].member}/balance`,
      headers: key,
      vary: (i) => ({ path: `/v1/members/${byToken(i).member}/balance`, headers: key }),
    },
  };
  const me: Target = {
    label: "GET /v1/me (member token: summary with balance)",
    load: {
      url: `${stack.apiUrl}/v1/me`,
      headers: { authorization: `Bearer ${tokens[0].token}` },
      vary: (i) => ({ path: "/v1/me", headers: { authorization: `Bearer ${byToken(i).token}` } }),
    },
  };
  return {
    me: await compare("member-token balance (GET /v1/me) vs trivial route", me, noop(stack), s, 1.5),
    detail: await compare("member-token balance detail (/balance) vs trivial route", withToken, noop(stack), s),
    vsKey: await compare("member-token /balance vs the same with a storefront key", withToken, withKey, s),
  };
}

/** The lookup's miss path: `Cache-Control: no-cache` makes the member's object read the database. */
export async function benchLookupUncached(stack: Stack, p: BenchProgram, s: Settings) {
  const headers = { authorization: `Bearer ${p.keys.storefront}`, "cache-control": "no-cache" };
  const subject: Target = {
    label: "GET /v1/members/{id}, Cache-Control: no-cache",
    load: {
      url: `${stack.apiUrl}/v1/members/${p.members[0]}`,
      headers,
      vary: (i) => ({ path: `/v1/members/${p.members[i % p.members.length]}`, headers }),
    },
  };
  return compare("member lookup read from libSQL (no-cache) vs trivial route", subject, noop(stack), s);
}

const accrualBody = () => ({ orderId: uniqueId("ord"), amount: 4_999, currency: "USD" });

export async function benchAccrual(stack: Stack, p: BenchProgram, s: Settings) {
  const headers = () => ({ authorization: `Bearer ${p.keys.storefront}`, "idempotency-key": uniqueId("idem") });
  const target = (label: string, path: (m: string) => string): Target => ({
    label,
    load: {
      url: `${stack.apiUrl}${path(p.members[0])}`,
      method: "POST",
      vary: (i) => ({ path: path(p.members[i % p.members.length]), headers: headers(), body: accrualBody() }),
    },
  });
  return compare(
    "accrual through the DO vs raw libSQL batch",
    target("POST /v1/members/{id}/accruals (Durable Object)", (m) => `/v1/members/${m}/accruals`),
    target("POST /__bench/…/raw-accruals (one batch, no DO)", (m) => `/__bench/members/${m}/raw-accruals`),
    s,
    2,
  );
}

export async function benchQuote(stack: Stack, p: BenchProgram, s: Settings) {
  const auth = { authorization: `Bearer ${p.keys.storefront}` };
  const subject: Target = {
    label: "POST /v1/quote (20 items, 50 rules)",
    load: {
      url: `${stack.apiUrl}/v1/quote`,
      method: "POST",
      headers: auth,
      vary: (i) => ({ headers: auth, body: twentyItemCart(p.members[i % p.members.length]) }),
    },
  };
  return compare("quote (20-item cart, 50 rules) vs trivial route", subject, noop(stack), s);
}

type Burst = { wallMs: number; p50: number; p99: number; errors: number };
export type Contention = { oneMember: Burst; distinctMembers: Burst; ratio: number; rounds: number; concurrency: number };

/** `concurrency` accruals fired at once: all on one member (serialised by its DO) vs one per member. */
export async function benchContention(stack: Stack, p: BenchProgram, rounds: number, concurrency = 64): Promise<Contention> {
  const fire = async (members: string[]) => {
    const started = performance.now();
    const results = await Promise.all(
      members.map(async (m) => {
        const t = performance.now();
        const res = await fetch(`${stack.apiUrl}/v1/members/${m}/accruals`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${p.keys.storefront}`,
            "idempotency-key": uniqueId("idem"),
            "content-type": "application/json",
          },
          body: JSON.stringify(accrualBody()),
        });
        await res.arrayBuffer();
        return { ms: performance.now() - t, ok: res.status === 201 };
      }),
    );
    return { wallMs: performance.now() - started, latencies: results.map((r) => r.ms), errors: results.filter((r) => !r.ok).length };
  };
  const one = Array.from({ length: concurrency }, () => p.members[0]);
  const distinct = p.members.slice(0, concurrency);
  await fire(distinct); // warm every member's DO
  await fire(one);
  const acc = { one: [] as Awaited<ReturnType<typeof fire>>[], distinct: [] as Awaited<ReturnType<typeof fire>>[] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      acc.one.push(await fire(one));
      acc.distinct.push(await fire(distinct));
    } else {
      acc.distinct.push(await fire(distinct));
      acc.one.push(await fire(one));
    }
  }
  const summarise = (bursts: Awaited<ReturnType<typeof fire>>[]): Burst => {
    const lat = bursts.flatMap((b) => b.latencies).sort((a, b) => a - b);
    return {
      wallMs: median(bursts.map((b) => b.wallMs)),
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      errors: bursts.reduce((s, b) => s + b.errors, 0),
    };
  };
  const oneMember = summarise(acc.one);
  const distinctMembers = summarise(acc.distinct);
  return { oneMember, distinctMembers, ratio: oneMember.wallMs / distinctMembers.wallMs, rounds, concurrency };
}

export async function httpPrograms(stack: Stack) {
  const plain = await benchProgram(stack, { members: 64, name: "Bench plain" });
  const rich = await benchProgram(stack, { members: 16, name: "Bench rules" });
  await addRulesAndTiers(stack, rich);
  return { plain, rich };
}
