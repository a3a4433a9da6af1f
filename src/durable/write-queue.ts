import type { LedgerResult } from "../ledger/result";
import { newId } from "../lib/ids";

/** The writes a member's object may store while the database is out of reach. */
export type QueuedOperation = "accrue" | "redeem";

/** A stored write as its caller sees it (GET /v1/members/{memberId}/queued-writes/{writeId}). */
export type QueuedWriteView = {
  id: string;
  memberId: string;
  operation: QueuedOperation;
  status: "pending" | "applied" | "failed";
  acceptedAt: string;
  appliedAt: string | null;
  /** Once applied: the status and body the write answered, as a retry with its Idempotency-Key gets them. */
  result: { status: number; body: unknown } | null;
  /** Once failed (the database refused it when it was applied): the error, as a retry gets it. */
  error: { code: string; message: string } | null;
};

/** What a member's queue still holds: the writes the database has not seen yet. */
export type PendingSync = {
  accruals: number;
  /** The purchases' amounts (minor units): their points are priced by the rules when applied. */
  amount: number;
  redemptions: number;
  /** Points the pending redemptions take, already out of what may be spent offline. */
  points: number;
  oldestAcceptedAt: string | null;
};

export type QueuedItem = {
  seq: number;
  id: string;
  origin: string;
  idempotencyKey: string;
  requestHash: string;
  memberId: string;
  programId: string;
  operation: QueuedOperation;
  request: string;
  input: string;
  amount: number;
  spend: number;
  status: "pending" | "applied" | "failed";
  attempts: number;
  result: string | null;
  acceptedAt: string;
  appliedAt: string | null;
  source: string | null;
};

/** Applied and failed writes are kept this long for their callers to fetch, then dropped. */
const KEEP_FINISHED_MS = 7 * 86_400_000;

/**
 * The member's store-and-forward queue, in the Durable Object's own SQLite storage (durable: it
 * survives eviction and restarts). Writes are applied in `seq` order; each keeps its client's
 * idempotency identity, so the database's idempotency record decides whether it ever committed.
 */
export class WriteQueue {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS queued_writes (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      origin TEXT NOT NULL,
      idempotency_key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      program_id TEXT NOT NULL,
      member_id TEXT NOT NULL,
      operation TEXT NOT NULL,
      request TEXT NOT NULL,
      input TEXT NOT NULL,
      amount INTEGER NOT NULL DEFAULT 0,
      spend INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      result TEXT,
      accepted_at TEXT NOT NULL,
      applied_at TEXT,
      source TEXT,
      UNIQUE (origin, idempotency_key)
    )`);
  }

  #rows(query: string, ...args: (string | number | null)[]): QueuedItem[] {
    return this.sql
      .exec(query, ...args)
      .toArray()
      .map(toItem);
  }

  byKey(origin: string, idempotencyKey: string): QueuedItem | null {
    return this.#rows("SELECT * FROM queued_writes WHERE origin = ? AND idempotency_key = ?", origin, idempotencyKey)[0] ?? null;
  }

  byId(id: string): QueuedItem | null {
    return this.#rows("SELECT * FROM queued_writes WHERE id = ?", id)[0] ?? null;
  }

  head(): QueuedItem | null {
    return this.#rows("SELECT * FROM queued_writes WHERE status = 'pending' ORDER BY seq LIMIT 1")[0] ?? null;
  }

  hasPending(): boolean {
    return this.head() !== null;
  }

  add(item: Omit<QueuedItem, "seq" | "id" | "status" | "attempts" | "result" | "appliedAt">): QueuedItem {
    const id = newId("qw");
    this.sql.exec(
      `INSERT INTO queued_writes (id, origin, idempotency_key, request_hash, program_id, member_id, operation, request, input, amount, spend, accepted_at, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      item.origin,
      item.idempotencyKey,
      item.requestHash,
      item.programId,
      item.memberId,
      item.operation,
      item.request,
      item.input,
      item.amount,
      item.spend,
      item.acceptedAt,
      item.source,
    );
    return this.byId(id) as QueuedItem;
  }

  attempted(seq: number): number {
    this.sql.exec("UPDATE queued_writes SET attempts = attempts + 1 WHERE seq = ?", seq);
    return this.#rows("SELECT * FROM queued_writes WHERE seq = ?", seq)[0]?.attempts ?? 0;
  }

  finish(seq: number, result: LedgerResult, at: string) {
    this.sql.exec(
      "UPDATE queued_writes SET status = ?, result = ?, applied_at = ? WHERE seq = ?",
      result.ok ? "applied" : "failed",
      JSON.stringify(result),
      at,
      seq,
    );
  }

  /** Drop finished writes older than their keeping time. */
  prune(now: number) {
    this.sql.exec("DELETE FROM queued_writes WHERE status != 'pending' AND applied_at < ?", new Date(now - KEEP_FINISHED_MS).toISOString());
  }

  pendingSync(): PendingSync {
    const [row] = this.sql
      .exec(
        `SELECT
           coalesce(sum(operation = 'accrue'), 0) AS accruals, coalesce(sum(amount), 0) AS amount,
           coalesce(sum(operation = 'redeem'), 0) AS redemptions, coalesce(sum(spend), 0) AS points,
           min(accepted_at) AS oldest
         FROM queued_writes WHERE status = 'pending'`,
      )
      .toArray();
    return {
      accruals: Number(row?.accruals ?? 0),
      amount: Number(row?.amount ?? 0),
      redemptions: Number(row?.redemptions ?? 0),
      points: Number(row?.points ?? 0),
      oldestAcceptedAt: (row?.oldest as string | null) ?? null,
    };
  }
}

function toItem(row: Record<string, SqlStorageValue>): QueuedItem {
  return {
    seq: Number(row.seq),
    id: String(row.id),
    origin: String(row.origin),
    idempotencyKey: String(row.idempotency_key),
    requestHash: String(row.request_hash),
    programId: String(row.program_id),
    memberId: String(row.member_id),
    operation: row.operation as QueuedOperation,
    request: String(row.request),
    input: String(row.input),
    amount: Number(row.amount),
    spend: Number(row.spend),
    status: row.status as QueuedItem["status"],
    attempts: Number(row.attempts),
    result: (row.result as string | null) ?? null,
    acceptedAt: String(row.accepted_at),
    appliedAt: (row.applied_at as string | null) ?? null,
    source: (row.source as string | null) ?? null,
  };
}

export function queuedView(item: QueuedItem): QueuedWriteView {
  const result = item.result ? (JSON.parse(item.result) as LedgerResult) : null;
  return {
    id: item.id,
    memberId: item.memberId,
    operation: item.operation,
    status: item.status,
    acceptedAt: item.acceptedAt,
    appliedAt: item.appliedAt,
    result: result?.ok ? { status: result.status, body: result.body } : null,
    error: result && !result.ok ? { code: result.code, message: result.message } : null,
  };
}
