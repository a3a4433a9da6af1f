/**
 * HTTP load through autocannon's programmatic API, with latencies kept per response (autocannon's
 * own histogram rounds to whole milliseconds, too coarse for sub-millisecond routes on loopback).
 */
import autocannon, { type RawRequest } from "autocannon";

export type LoadStats = {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
};

export type LoadOptions = {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  connections: number;
  seconds?: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
  /** Called for every request: a fresh path, headers or body (unique idempotency keys, order ids). */
  vary?: (i: number) => { path?: string; method?: string; headers?: Record<string, string>; body?: unknown };
};

export function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function runLoad(o: LoadOptions): Promise<LoadStats> {
  return (await runInterleaved([o], { connections: o.connections, seconds: o.seconds, amount: o.amount }))[0];
}

/**
 * Several targets on one origin, interleaved request by request on every connection (autocannon
 * cycles through its request list per connection): with one connection, A B A B… — each side sees
 * the same machine at the same moment, so their ratio does not drift with other load.
 */
export async function runInterleaved(
  targets: Array<Omit<LoadOptions, "connections" | "seconds" | "amount">>,
  run: { connections: number; seconds?: number; amount?: number },
): Promise<LoadStats[]> {
  const origin = new URL(targets[0].url).origin;
  const counters = targets.map(() => 0);
  const requests = targets.map((o, t) => {
    const url = new URL(o.url);
    const baseHeaders = { ...(o.body !== undefined || o.vary ? { "content-type": "application/json" } : {}), ...o.headers };
    const setupRequest = (req: RawRequest): RawRequest => {
      const v = o.vary!(counters[t]++);
      return {
        ...req,
        method: v.method ?? req.method,
        path: v.path ?? req.path,
        headers: { ...baseHeaders, ...v.headers },
        body: v.body === undefined ? req.body : JSON.stringify(v.body),
      };
    };
    return {
      method: o.method ?? "GET",
      path: url.pathname + url.search,
      headers: baseHeaders,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      ...(o.vary ? { setupRequest } : {}),
    };
  });
  const latencies: number[][] = targets.map(() => []);
  const statusCodes: Array<Record<string, number>> = targets.map(() => ({}));
  const answered = new Map<unknown, number>();
  const started = performance.now();
  const instance = autocannon({
    url: origin,
    connections: run.connections,
    timeout: 60,
    ...(run.amount ? { amount: run.amount } : { duration: run.seconds ?? 5 }),
    requests,
  });
  // Each connection sends its requests in order and waits for each answer: the n-th answer on a
  // connection is for target n mod targets.
  instance.on("response", (client: unknown, status: number, _bytes: number, ms: number) => {
    const n = answered.get(client) ?? 0;
    answered.set(client, n + 1);
    const t = n % targets.length;
    latencies[t].push(ms);
    statusCodes[t][status] = (statusCodes[t][status] ?? 0) + 1;
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  return targets.map((_, t) => {
    const sorted = latencies[t].sort((a, b) => a - b);
    const non2xx = Object.entries(statusCodes[t]).reduce((sum, [code, count]) => sum + (code.startsWith("2") ? 0 : count), 0);
    return {
      requests: sorted.length,
      seconds,
      rps: sorted.length / seconds,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length),
      // Connection errors and timeouts are not attributable to a target: counted on each.
      errors: non2xx + result.errors + result.timeouts,
      statusCodes: statusCodes[t],
    };
  });
}

/** JSON over fetch, throwing on an unexpected status (setup calls). */
export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; idempotencyKey?: string; expect?: number[] } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!(opts.expect ?? [200, 201, 204]).includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 500)}`);
  return body as T;
}
