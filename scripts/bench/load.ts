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
  const url = new URL(o.url);
  const baseHeaders = { ...(o.body !== undefined || o.vary ? { "content-type": "application/json" } : {}), ...o.headers };
  let i = 0;
  const setupRequest = (req: RawRequest): RawRequest => {
    const v = o.vary!(i++);
    return {
      ...req,
      method: v.method ?? req.method,
      path: v.path ?? req.path,
      headers: { ...baseHeaders, ...v.headers },
      body: v.body === undefined ? req.body : JSON.stringify(v.body),
    };
  };
  const latencies: number[] = [];
  const started = performance.now();
  const instance = autocannon({
    url: url.origin,
    connections: o.connections,
    timeout: 60,
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds ?? 5 }),
    requests: [
      {
        method: o.method ?? "GET",
        path: url.pathname + url.search,
        headers: baseHeaders,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        ...(o.vary ? { setupRequest } : {}),
      },
    ],
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    mean: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    errors: result.non2xx + result.errors + result.timeouts,
    statusCodes,
  };
}

/** JSON over fetch, throwing on an unexpected status (setup calls). */
export async function api<T = any>(base: string, method: string, path: string, opts: { key?: string; body?: unknown; idempotencyKey?: string; expect?: number[] } = {}): Promise<T> {
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
