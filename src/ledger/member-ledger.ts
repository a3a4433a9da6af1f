import { DurableObject } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { ledgerRequests } from "../../schema";
import { type Database, database } from "../db/client";
import type { Env } from "../env";
import { AppError, errorChainText } from "../lib/errors";
import { nowIso } from "../lib/time";
import type { MemberView } from "../services/member-view";
import { getMember } from "../services/members";
import { planAccrual } from "./accrue";
import { type AdjustInput, planAdjustment } from "./adjust";
import type { PurchaseInput } from "./earning";
import { ledgerHooks } from "./hooks";
import { MemberViewCache } from "./member-view-cache";
import { type DebitInput, planRedemption } from "./redeem";
import { planRefund, type RefundInput } from "./refund";
import { failure, type LedgerResult } from "./result";
import type { Statement, WriteScope } from "./state";

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

const isConstraintFailure = (err: unknown) => /CHECK constraint failed|negative_balance|SQLITE_CONSTRAINT/i.test(errorChainText(err));
const isDuplicateRequest = (err: unknown) => /UNIQUE constraint failed: ledger_requests/i.test(errorChainText(err));

/**
 * One instance per (program, member): every ledger write for that member runs here, one
 * at a time, and commits as one libSQL batch with its idempotency record.
 */
export class MemberLedger extends DurableObject<Env> {
  #mutex = new Mutex();
  #view = new MemberViewCache();

  /**
   * The member's lookup view from memory when younger than `maxAgeSeconds` (0: read now). Not
   * behind the write mutex: a lookup never waits for a write, and a write invalidates the view.
   */
  async view(programId: string, memberId: string, maxAgeSeconds: number): Promise<{ view: MemberView | null; ageSeconds: number }> {
    const ctx = { env: this.env, db: database(this.env), requestId: "member-ledger" };
    const { view, ageMs } = await this.#view.get(
      () =>
        getMember({ ctx, input: { programId, memberId, withSegments: true } }).catch((err) =>
          err instanceof AppError && err.code === "not_found" ? null : Promise.reject(err),
        ),
      maxAgeSeconds * 1000,
    );
    return { view, ageSeconds: Math.floor(ageMs / 1000) };
  }

  /** Drop the cached view (after a change made outside this object, e.g. an admin edit). */
  forget() {
    this.#view.invalidate();
  }

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
    if (!planner)
      return Promise.resolve<LedgerResult>({ ok: false, code: "invalid_request", message: `Unknown ledger operation ${operation}` });
    return this.#write(req, operation, (scope) => planner(scope, input));
  }

  #write(req: WriteRequest, operation: string, plan: (scope: WriteScope) => Promise<Plan>): Promise<LedgerResult> {
    return this.#mutex.run(async () => {
      const db = database(this.env);
      const newScope = (): WriteScope => ({
        db,
        programId: req.programId,
        memberId: req.memberId,
        requestKey: req.idempotencyKey,
        now: nowIso(),
      });
      try {
        // Idempotency is optimistic: no replay lookup before planning. The idempotency record is
        // the write batch's first statement, so a key already used fails the batch on UNIQUE and
        // the stored answer is returned; a planning error (insufficient points now, duplicate
        // order…) stands only when the key was never used, so a retry gets its original answer.
        // A first request costs its plan's reads and one write batch, nothing more.
        // Retries: a CHECK failure means a cron sweep changed a lot between our read and write.
        for (let attempt = 1; ; attempt++) {
          const scope = newScope();
          let planned: Plan;
          try {
            planned = await plan(scope);
          } catch (err) {
            const replay = await this.#replay(db, req);
            if (replay) return replay;
            throw err;
          }
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
            this.#view.invalidate();
            return { ok: true, status: planned.status, body: planned.body, replayed: false } as const;
          } catch (err) {
            this.#view.invalidate(); // the batch may have committed before the error reached us
            if (isDuplicateRequest(err)) {
              const again = await this.#replay(db, req);
              if (again) return again;
            }
            if (isConstraintFailure(err) && attempt < 3) continue;
            if (isConstraintFailure(err))
              throw new AppError("conflict", "The write conflicted with a concurrent change; retry with the same Idempotency-Key");
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
