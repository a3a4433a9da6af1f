import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { database } from "../../src/db/client";
import type { Env } from "../../src/env";
import { type CreateProgramInput, createProgram } from "../../src/services/access/programs";
import worker, { withTestSeams } from "../support/worker";

/** The env the test Worker's handlers see (with its seams), for calling services and crons directly. */
export const testEnv = withTestSeams(env as unknown as Env);
export const db = () => database(testEnv);

export type TestProgram = Awaited<ReturnType<typeof createProgram>>;

/** A fresh program (tenant) with its three keys, written through the real service. */
export async function newProgram(input: Partial<CreateProgramInput> = {}): Promise<TestProgram> {
  return createProgram({ ctx: { env: testEnv, db: db(), requestId: "test" }, input: { name: "Test program", holdDays: 0, ...input } });
}

type CallOptions = { key?: string; body?: unknown; idempotencyKey?: string; headers?: Record<string, string>; rawBody?: string };

/** The request a storefront/partner/admin would send. */
function requestFor(method: string, path: string, opts: CallOptions): Request {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  return new Request(`http://loyalty.test${path}`, { method, headers, body });
}

async function parsed(res: Response) {
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

/** Call the Worker as a storefront/partner/admin would, through its fetch handler. */
export async function call(method: string, path: string, opts: CallOptions = {}) {
  return parsed(await (exports as unknown as { default: Fetcher }).default.fetch(requestFor(method, path, opts)));
}

/**
 * call(), but through the Worker's fetch handler in this context rather than `exports.default`:
 * in vitest-pool-workers every `exports.default.fetch` re-imports the main module through the
 * runner object, which slows down quadratically with the calls a test file makes (150 calls
 * take 0.7 s at first and 70 s after 750). Same handler, bindings and Durable Objects.
 */
export async function callDirect(method: string, path: string, opts: CallOptions = {}) {
  return parsed(await worker.fetch(requestFor(method, path, opts), testEnv, createExecutionContext()));
}

/** How many items fall under each key. */
export function countBy<T>(items: readonly T[], keyOf: (item: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const key = keyOf(item);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

let counter = 0;
export const uniqueKey = (label = "k") => `${label}-${Date.now()}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export async function newMember(p: TestProgram, extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/members", { key: p.keys.storefront, body: { externalId: uniqueKey("cust"), ...extra } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; externalId: string; referralCode: string };
}

export async function accrue(p: TestProgram, memberId: string, amount: number, extra: Record<string, unknown> = {}) {
  return call("POST", `/v1/members/${memberId}/accruals`, {
    key: p.keys.storefront,
    idempotencyKey: uniqueKey("acc"),
    body: { orderId: uniqueKey("order"), amount, currency: "USD", ...extra },
  });
}

/** Σ ledger entries and the member row's balance, straight from the database. */
export async function ledgerSum(memberId: string) {
  const r = await db().$client.execute({
    sql: "SELECT COALESCE(SUM(points),0) AS s, (SELECT points_balance FROM members WHERE id = ?) AS b, (SELECT points_pending FROM members WHERE id = ?) AS p, (SELECT COALESCE(SUM(remaining),0) FROM point_lots WHERE member_id = ?) AS lots FROM ledger_entries WHERE member_id = ?",
    args: [memberId, memberId, memberId, memberId],
  });
  const row = r.rows[0];
  return { sum: Number(row.s), balance: Number(row.b), pending: Number(row.p), lots: Number(row.lots) };
}

/**
 * The Standard Webhooks headers a partner sends with `raw`, made with the `standardwebhooks`
 * npm package as a partner's own code would (not with the project's signing code).
 */
export function partnerSignature(secret: string, raw: string, opts: { id?: string; at?: Date } = {}): Record<string, string> {
  const id = opts.id ?? uniqueKey("msg");
  const at = opts.at ?? new Date();
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, raw),
  };
}
