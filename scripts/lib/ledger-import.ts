/**
 * The points-changing imports (opening balances, past purchases) as the CLI sends them: rows
 * streamed from the file, grouped per member, sent in batches to the bulk admin routes (each
 * member's part is one write in its Durable Object), with a checkpoint after every answered
 * batch so an interrupted run continues where it stopped.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { ImportBalanceRow, ImportTransactionRow } from "../../src/services/admin/import-rows";

export type LedgerImportKind = "members" | "balances" | "transactions";

/** SHA-256 of the file, streamed: the checkpoint belongs to exactly this content. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export type Totals = {
  rows: number;
  accepted: number;
  rejected: number;
  members: number;
  imported: number;
  replayed: number;
  points: number;
  orders: number;
  skippedExisting: number;
};
export const emptyTotals = (): Totals => ({
  rows: 0,
  accepted: 0,
  rejected: 0,
  members: 0,
  imported: 0,
  replayed: 0,
  points: 0,
  orders: 0,
  skippedExisting: 0,
});

/**
 * Where a run stopped: every line up to `line` was answered by the server (or rejected), the
 * errors file was `errorsBytes` long, and these were the totals. Keyed by the file's hash, the
 * kind and the award, so a changed file or other options start over.
 */
export type Checkpoint = { sha256: string; kind: string; award: string | null; line: number; errorsBytes: number; totals: Totals };

export function readCheckpoint(path: string, key: Pick<Checkpoint, "sha256" | "kind" | "award">): Checkpoint | null {
  if (!existsSync(path)) return null;
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as Checkpoint;
    return saved.sha256 === key.sha256 && saved.kind === key.kind && saved.award === key.award ? saved : null;
  } catch {
    return null;
  }
}

/** Written to a temporary file and renamed: a kill mid-write leaves the previous checkpoint whole. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint) {
  writeFileSync(`${path}.tmp`, JSON.stringify(checkpoint));
  renameSync(`${path}.tmp`, path);
}

export type RowError = { line: number; reason: string; row: unknown };

/** One member's rows from the file, as one part of a bulk request. */
export type MemberGroup = {
  externalId: string;
  lines: number[];
  rows: unknown[];
  /** The member's part of the request; null when a row of theirs was rejected (none of them is sent). */
  body: Record<string, unknown> | null;
  reason?: string;
};

const MEMBER_FIELDS = ["legacyId", "lifetimeEarned", "lifetimeRedeemed", "tier", "tierSecuredUntil", "referralCode"] as const;

/**
 * One member's opening balance from their rows: a lot per row with points, the member's own
 * figures from whichever rows carry them (they must agree).
 */
export function openingBalanceOf(externalId: string, rows: ImportBalanceRow[]): { body: Record<string, unknown> } | { reason: string } {
  const body: Record<string, unknown> = { externalId, lots: [] };
  for (const row of rows) {
    for (const field of MEMBER_FIELDS) {
      const value = row[field];
      if (value === undefined) continue;
      if (body[field] !== undefined && body[field] !== value) return { reason: `rows of ${externalId} disagree on ${field}` };
      body[field] = value;
    }
    if (row.points !== undefined)
      (body.lots as unknown[]).push({
        points: row.points,
        earnedAt: row.earnedAt,
        ...(row.availableAt ? { availableAt: row.availableAt } : {}),
        ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
      });
  }
  return { body };
}

/** A member's purchases in one request. */
export const historyOf = (externalId: string, rows: ImportTransactionRow[]) => ({
  externalId,
  orders: rows.map(({ externalId: _e, quantity: _q, ...order }) => order),
});

type MemberResult = {
  index: number;
  status: "imported" | "replayed" | "existing" | "rejected";
  points?: number;
  imported?: number;
  skippedExisting?: number;
  message?: string;
  code?: string;
};

/**
 * POST one batch, retrying what may be retried (network errors, 429, 5xx) with backoff: the
 * routes are idempotent per member, so a batch the server applied but never answered is
 * answered `replayed` the second time.
 */
export async function postBatch(
  url: string,
  key: string,
  body: unknown,
  opts: { attempts?: number; onRetry?: (why: string) => void } = {},
): Promise<{ results: MemberResult[] }> {
  const attempts = opts.attempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.ok) return JSON.parse(text);
      if (res.status !== 429 && res.status < 500) {
        const error = (() => {
          try {
            return JSON.parse(text).error;
          } catch {
            return { code: "error", message: text };
          }
        })();
        throw new FatalImportError(`${res.status} ${error.code}: ${error.message}`, res.status);
      }
      why = `${res.status}`;
    } catch (err) {
      if (err instanceof FatalImportError) throw err;
      why = (err as Error).message;
    }
    if (attempt >= attempts) throw new Error(`batch failed after ${attempts} attempts (last: ${why}); re-run the same command to resume`);
    opts.onRetry?.(why);
    await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
  }
}

/** A refusal the server will repeat (bad key, invalid batch): stop, do not retry. */
export class FatalImportError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Adds a batch's answers to the totals and returns the errors of its rejected members' rows. */
export function applyResults(kind: LedgerImportKind, groups: MemberGroup[], results: MemberResult[], totals: Totals): RowError[] {
  const errors: RowError[] = [];
  for (const r of results) {
    const group = groups[r.index];
    if (r.status === "rejected") {
      const reason = `${r.code ?? "rejected"}: ${r.message ?? ""}`;
      for (const [i, line] of group.lines.entries()) errors.push({ line, reason, row: group.rows[i] });
      totals.accepted -= group.lines.length;
      totals.rejected += group.lines.length;
      continue;
    }
    totals.members++;
    if (r.status === "existing") totals.skippedExisting++;
    else if (r.status === "replayed") totals.replayed++;
    else totals.imported++;
    totals.points += r.points ?? 0;
    if (kind === "transactions") {
      totals.orders += r.imported ?? 0;
      totals.skippedExisting += r.skippedExisting ?? 0;
    }
  }
  return errors;
}
