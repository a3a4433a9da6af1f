import { DurableObject } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { ledgerRequests } from "../../schema";
import { type Database, database } from "../db/client";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { nowIso } from "../lib/time";
import { planAccrual } from "./accrue";
import { planAdjustment, type AdjustInput } from "./adjust";
import type { PurchaseInput } from "./earning";
import { type DebitInput, planRedemption } from "./redeem";
import { planRefund, type RefundInput } from "./refund";
import { failure, type LedgerResult } from "./result";
import type { Statement, WriteScope } from "./state";
import { ledgerHooks } from "./hooks";

/** Identifies one idempotent write: who, which key, and a hash of the body. */
export type WriteRequest = { programId: string; memberId: string; idempotencyKey: string; requestHash: string };

type Plan = { status: 200 | 201; body: unknown; statements: Statement[] };

/** A FIFO async mutex: outgoing I/O reopens a Durable Object's input gate, so we serialise explicitly. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

const isConstraintFailure = (err: unknown) => /CHECK constraint failed|negative_balance|SQLITE_CONSTRAINT/i.test(errorText(err));
const isDuplicateRequest = (err: unknown) => /UNIQUE constraint failed: ledger_requests/i.test(errorText(err));
function errorText(err: unknown): string {
  let text = "";
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) text += ` ${(e as Error).message ?? String(e)}`;
  return text;
}

/**
 * One instance per (program, member): every ledger write for that member runs here, one
 * at a time, and commits as one libSQL batch with its idempotency record.
 */
export class MemberLedger extends DurableObject<Env> {
  #mutex = new Mutex();

  accrue(req: WriteRequest, input: PurchaseInput) {
    return this.#write(req, "accrue", (scope) => planAccrual(scope, input));
  }
  redeem(req: WriteRequest, input: DebitInput) {
    return this.#write(req, "redeem", (scope) => planRedemption(scope, input));
  }
  adjust(req: WriteRequest, input: AdjustInput) {
    return this.#write(req, "adjust", (scope) => planAdjustment(scope, input));
  }
  refund(req: WriteRequest, input: RefundInput) {
    return this.#write(req, "refund", (scope) => planRefund(scope, input));
  }
  /** Extension point for features that debit/credit inside their own plan (rewards, campaigns). */
  custom(req: WriteRequest, operation: string, input: unknown) {
    const planner = ledgerHooks.custom[operation];
    if (!planner) return Promise.resolve<LedgerResult>({ ok: false, code: "invalid_request", message: `Unknown ledger operation ${operation}` });
    return this.#write(req, operation, (scope) => planner(scope, input));
  }

  #write(req: WriteRequest, operation: string, plan: (scope: WriteScope) => Promise<Plan>): Promise<LedgerResult> {
    return this.#mutex.run(async () => {
      const db = database(this.env);
      const newScope = (): WriteScope => ({ db, programId: req.programId, memberId: req.memberId, requestKey: req.idempotencyKey, now: nowIso() });
      const settle = (scope: WriteScope) => plan(scope).then((planned) => ({ planned }), (error: unknown) => ({ error }));
      try {
        // Planning only reads, so the first plan runs beside the replay lookup (one round trip
        // fewer per write); a replay wins, and only then may a planning error (e.g. insufficient
        // points now) stand, so a retried request always gets its original answer.
        const firstScope = newScope();
        const firstPlan = settle(firstScope);
        const replay = await this.#replay(db, req);
        if (replay) {
          await firstPlan; // its reads end before the next write starts; its result is dropped
          return replay;
        }
        // One retry: a CHECK failure means a cron sweep changed a lot between our read and write.
        for (let attempt = 1; ; attempt++) {
          const scope = attempt === 1 ? firstScope : newScope();
          const outcome = attempt === 1 ? await firstPlan : await settle(scope);
          if ("error" in outcome) throw outcome.error;
          const planned = outcome.planned;
          const record = db.insert(ledgerRequests).values({
            programId: req.programId,
            idempotencyKey: req.idempotencyKey,
            memberId: req.memberId,
            operation,
            requestHash: req.requestHash,
            status: planned.status,
            response: planned.body,
            createdAt: scope.now,
          });
          try {
            await db.batch([record, ...planned.statements] as [Statement, ...Statement[]]);
            return { ok: true, status: planned.status, body: planned.body, replayed: false } as const;
          } catch (err) {
            if (isDuplicateRequest(err)) {
              const again = await this.#replay(db, req);
              if (again) return again;
            }
            if (isConstraintFailure(err) && attempt < 3) continue;
            if (isConstraintFailure(err)) throw new AppError("conflict", "The write conflicted with a concurrent change; retry with the same Idempotency-Key");
            throw err;
          }
        }
      } catch (err) {
        return failure(err);
      }
    });
  }

  async #replay(db: Database, req: WriteRequest): Promise<LedgerResult | null> {
    const [stored] = await db
      .select()
      .from(ledgerRequests)
      .where(and(eq(ledgerRequests.programId, req.programId), eq(ledgerRequests.idempotencyKey, req.idempotencyKey)))
      .limit(1);
    if (!stored) return null;
    if (stored.requestHash !== req.requestHash || stored.memberId !== req.memberId) {
      return { ok: false, code: "idempotency_conflict", message: "This Idempotency-Key was already used with a different request" };
    }
    return { ok: true, status: stored.status as 200 | 201, body: stored.response, replayed: true };
  }
}
