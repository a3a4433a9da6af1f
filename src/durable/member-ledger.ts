import { DurableObject } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { type keyOrigins, ledgerRequests, partnerMembers, redemptions } from "../../schema";
import { type Database, database, type WriteMeter } from "../db/client";
import type { Env } from "../env";
import type { PurchaseInput } from "../ledger/earning";
import { MemberViewCache } from "../ledger/member-view-cache";
import { planAccrual } from "../ledger/operations/accrue";
import { type AdjustInput, planAdjustment } from "../ledger/operations/adjust";
import { type CampaignAwardInput, planCampaignAward } from "../ledger/operations/award-campaign";
import { type CancelCouponInput, planCouponCancellation } from "../ledger/operations/cancel-coupon";
import {
  type CheckoutInput,
  CheckoutInput as CheckoutInputSchema,
  planCapture,
  planCheckoutRedemption,
  planHoldExpiry,
  planReversal,
  planVoid,
  type RedemptionRef,
} from "../ledger/operations/checkout";
import { planReferralCredit } from "../ledger/operations/credit-referral";
import { type HistoryInput, planHistoryImport } from "../ledger/operations/import-history";
import { type OpeningBalanceInput, planOpeningBalance } from "../ledger/operations/migrate-balance";
import { type ActivityInput, planActivity } from "../ledger/operations/record-activity";
import { planRewardRedemption, type RedeemRewardInput } from "../ledger/operations/redeem-reward";
import { planRefund, type RefundInput } from "../ledger/operations/refund";
import { planReferralReversal } from "../ledger/operations/reverse-referral";
import type { ReferralInput } from "../ledger/referrals";
import { failure, type LedgerResult, type Plan } from "../ledger/result";
import type { Statement, WriteActor, WriteScope } from "../ledger/state";
import { systemKeys } from "../ledger/system-keys";
import { AppError, errorChainText } from "../lib/errors";
import { writeMetric } from "../lib/telemetry";
import { nowIso } from "../lib/time";
import { systemWriteRequest } from "../services/ledger/write";
import { type ErasureActor, eraseMemberData } from "../services/members/erasure";
import { getMember } from "../services/members/members";
import type { MemberView } from "../services/members/view";
import { flushUsage, recordUsage, usageFlushDue } from "../services/tenants/usage";
import { type AppliedAssignment, applyTierAssignment, type TierAssignmentWrite } from "../services/tiers/assign";

/**
 * Identifies one idempotent write: which member, which key in which namespace (a client's
 * Idempotency-Key, or a key from systemKeys), a hash of the body, and whose facts it carries.
 * Built by clientWriteRequest / systemWriteRequest (src/services/ledger.ts).
 */
export type WriteRequest = {
  programId: string;
  memberId: string;
  origin: KeyOrigin;
  idempotencyKey: string;
  requestHash: string;
  actor: WriteActor;
  /** The key (and partner) the write came from: recorded on orders it creates; a partner's links it to the member. */
  source?: { keyId: string | null; partner: string | null };
};

/** A FIFO async mutex: outgoing I/O reopens a Durable Object's input gate, so we serialise explicitly. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

type KeyOrigin = (typeof keyOrigins)[number];

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

  // One method per operation; each runs its planner under the write mutex. The second argument
  // names the operation in its idempotency record.
  accrue(req: WriteRequest, input: PurchaseInput) {
    return this.#write(req, "accrue", (scope) => planAccrual(scope, input));
  }
  /**
   * Redeem at checkout; a reserve (`capture: false`) also sets this object's alarm for its
   * expiry, before the write, so a hold is released even if the checkout never comes back.
   */
  async redeem(req: WriteRequest, input: CheckoutInput) {
    const parsed = CheckoutInputSchema.safeParse(input);
    if (parsed.success && !parsed.data.capture) await this.#remindAt(req, Date.now() + parsed.data.holdSeconds * 1000);
    return this.#write(req, "redeem", (scope) => planCheckoutRedemption(scope, input));
  }
  captureRedemption(req: WriteRequest, input: RedemptionRef) {
    return this.#write(req, "redemption.capture", (scope) => planCapture(scope, input));
  }
  voidRedemption(req: WriteRequest, input: RedemptionRef) {
    return this.#write(req, "redemption.void", (scope) => planVoid(scope, input));
  }
  reverseRedemption(req: WriteRequest, input: RedemptionRef) {
    return this.#write(req, "redemption.reverse", (scope) => planReversal(scope, input));
  }

  /** Whose object this is, kept for the alarm, and the alarm no later than `at` (ms). */
  async #remindAt(req: { programId: string; memberId: string }, at: number) {
    await this.ctx.storage.put("member", { programId: req.programId, memberId: req.memberId });
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Reserves past their time go back to their lots, each by its own idempotent system write
   * (`hold:<id>:expire`), then the alarm is set for the next one. The database is the source of
   * truth (not this object's storage), so a reserve whose write committed is always found. A
   * failed write throws, and the runtime retries the alarm.
   */
  async alarm() {
    const who = await this.ctx.storage.get<{ programId: string; memberId: string }>("member");
    if (!who) return;
    const open = await database(this.env)
      .select({ id: redemptions.id, expiresAt: redemptions.expiresAt })
      .from(redemptions)
      .where(and(eq(redemptions.programId, who.programId), eq(redemptions.memberId, who.memberId), eq(redemptions.status, "reserved")));
    const now = nowIso();
    let next: string | null = null;
    const failures: string[] = [];
    for (const r of open) {
      if (r.expiresAt === null) continue;
      if (r.expiresAt > now) {
        if (next === null || r.expiresAt < next) next = r.expiresAt;
        continue;
      }
      const req = await systemWriteRequest({
        ...who,
        operation: "redemption.expire",
        idempotencyKey: systemKeys.hold(r.id),
        body: { redemptionId: r.id },
      });
      const result = await this.#write(req, "redemption.expire", (scope) => planHoldExpiry(scope, { redemptionId: r.id }));
      if (!result.ok) failures.push(`${r.id}: ${result.code}`);
    }
    if (next !== null) await this.ctx.storage.setAlarm(Date.parse(next));
    if (failures.length > 0) throw new Error(`Reserves not expired: ${failures.join(", ")}`);
  }
  adjust(req: WriteRequest, input: AdjustInput) {
    return this.#write(req, "adjust", (scope) => planAdjustment(scope, input));
  }
  refund(req: WriteRequest, input: RefundInput) {
    return this.#write(req, "refund", (scope) => planRefund(scope, input));
  }
  redeemReward(req: WriteRequest, input: RedeemRewardInput) {
    return this.#write(req, "reward.redeem", (scope) => planRewardRedemption(scope, input));
  }
  cancelCoupon(req: WriteRequest, input: CancelCouponInput) {
    return this.#write(req, "coupon.cancel", (scope) => planCouponCancellation(scope, input));
  }
  awardCampaign(req: WriteRequest, input: CampaignAwardInput) {
    return this.#write(req, "campaign.award", (scope) => planCampaignAward(scope, input));
  }
  creditReferral(req: WriteRequest, input: ReferralInput) {
    return this.#write(req, "referral.credit", (scope) => planReferralCredit(scope, input));
  }
  reverseReferral(req: WriteRequest, input: ReferralInput) {
    return this.#write(req, "referral.reverse", (scope) => planReferralReversal(scope, input));
  }
  /** A member's opening balance migrated from another system (bulk import; once per member). */
  migrateBalance(req: WriteRequest, input: OpeningBalanceInput) {
    return this.#write(req, "migration.balance", (scope) => planOpeningBalance(scope, input));
  }
  /** A member's past purchases (bulk import), in turn with their live checkouts. */
  importHistory(req: WriteRequest, input: HistoryInput) {
    return this.#write(req, "import.history", (scope) => planHistoryImport(scope, input));
  }
  /** An activity a client reports (a review, a check-in, …); never a system bonus kind. */
  recordActivity(req: WriteRequest, input: ActivityInput) {
    return this.#write(req, "activity", (scope) => planActivity(scope, input, "reported"));
  }
  /** A bonus only the system awards (signup, birthday, referral), under a system key. */
  awardBonus(req: WriteRequest, input: ActivityInput) {
    if (req.origin !== "system") return Promise.resolve(failure(new AppError("forbidden", "Bonuses are awarded by the system only")));
    return this.#write(req, "activity", (scope) => planActivity(scope, input, "bonus"));
  }

  /**
   * Erase the member's personal data (one batch), in turn with their ledger writes: a write
   * planned before the erasure commits before it, one planned after sees the erased member.
   */
  erase(input: {
    programId: string;
    memberId: string;
    actor: ErasureActor;
  }): Promise<LedgerResult<{ memberId: string; erasedAt: string }>> {
    return this.#mutex.run(async () => {
      try {
        const body = await eraseMemberData(database(this.env), input);
        return { ok: true, status: 200, body, replayed: false } as const;
      } catch (err) {
        return failure(err);
      } finally {
        this.#view.invalidate();
      }
    });
  }

  /**
   * Assign a tier (admin), in turn with the member's ledger writes: a purchase's tier upgrade
   * planned before it commits first, one planned after sees the assigned tier.
   */
  assignTier(input: TierAssignmentWrite, actor: { keyId: string | null; requestId: string }): Promise<LedgerResult<AppliedAssignment>> {
    return this.#mutex.run(async () => {
      try {
        const ctx = {
          env: this.env,
          db: database(this.env),
          requestId: actor.requestId,
          principal: { programId: input.programId, keyId: actor.keyId as string, scope: "admin" as const },
        };
        const body = await applyTierAssignment(ctx, input);
        return { ok: true, status: 200, body, replayed: false } as const;
      } catch (err) {
        return failure(err);
      } finally {
        this.#view.invalidate();
      }
    });
  }

  /** The rows a ledger write wrote, on its program's usage (flushed in the background, src/services/tenants/usage.ts). */
  #meter(programId: string, meter: WriteMeter) {
    recordUsage(programId, { rowsWritten: meter.rowsWritten });
    if (usageFlushDue()) this.ctx.waitUntil(flushUsage(database(this.env)));
  }

  #write<T>(req: WriteRequest, operation: string, plan: (scope: WriteScope) => Promise<Plan<T>>): Promise<LedgerResult<T>> {
    return this.#mutex.run(async () => {
      const started = Date.now();
      let attempts = 0;
      // Conflict retries are the attempts past the first; group-commit size is the writes committed
      // in one batch (one: each write is its own batch).
      const measure = (outcome: string) =>
        writeMetric(
          this.env,
          "ledger_write",
          [operation, outcome, req.programId],
          [Date.now() - started, attempts, Math.max(0, attempts - 1), 1],
        );
      try {
        const result = await this.#attempt(req, operation, plan, () => ++attempts);
        measure(result.ok ? (result.replayed ? "replayed" : "committed") : result.code === "conflict" ? "conflict" : "rejected");
        return result;
      } catch (err) {
        measure("error");
        throw err;
      }
    });
  }

  async #attempt<T>(
    req: WriteRequest,
    operation: string,
    plan: (scope: WriteScope) => Promise<Plan<T>>,
    countAttempt: () => number,
  ): Promise<LedgerResult<T>> {
    const meter: WriteMeter = { rowsWritten: 0 };
    const db = database(this.env, meter);
    const newScope = (): WriteScope => ({
      db,
      programId: req.programId,
      memberId: req.memberId,
      requestKey: req.idempotencyKey,
      actor: req.actor,
      ...(req.source ? { source: req.source } : {}),
      now: nowIso(),
    });
    try {
      // Idempotency is optimistic: no replay lookup before planning. The idempotency record is
      // the write batch's first statement, so a key already used fails the batch on UNIQUE and
      // the stored answer is returned; a planning error (insufficient points now, duplicate
      // order…) stands only when the key was never used, so a retry gets its original answer.
      // A first request costs its plan's reads and one write batch, nothing more.
      // Retries: a CHECK failure means a cron sweep changed a lot between our read and write.
      for (;;) {
        const attempt = countAttempt();
        const scope = newScope();
        let planned: Plan<T>;
        try {
          planned = await plan(scope);
        } catch (err) {
          const replay = await this.#replay<T>(db, req);
          if (replay) return replay;
          throw err;
        }
        const record = db.insert(ledgerRequests).values({
          programId: req.programId,
          origin: req.origin,
          idempotencyKey: req.idempotencyKey,
          memberId: req.memberId,
          operation,
          requestHash: req.requestHash,
          status: planned.status,
          response: planned.body,
          createdAt: scope.now,
        });
        try {
          await db.batch([record, ...planned.statements, ...this.#partnerLink(db, req, scope.now)] as [Statement, ...Statement[]]);
          this.#view.invalidate();
          this.#meter(req.programId, meter);
          return { ok: true, status: planned.status, body: planned.body, replayed: false } as const;
        } catch (err) {
          this.#view.invalidate(); // the batch may have committed before the error reached us
          if (isDuplicateRequest(err)) {
            const again = await this.#replay<T>(db, req);
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
  }

  /** A partner's write touches the member: linked in the same batch, so a `touched` partner key may read them. */
  #partnerLink(db: Database, req: WriteRequest, now: string): Statement[] {
    const partner = req.source?.partner;
    if (!partner) return [];
    return [
      db
        .insert(partnerMembers)
        .values({ programId: req.programId, partner, memberId: req.memberId, createdAt: now })
        .onConflictDoNothing() as Statement,
    ];
  }

  /** The stored answer of a key already used: the same operation answered it, so it has its body type. */
  async #replay<T>(db: Database, req: WriteRequest): Promise<LedgerResult<T> | null> {
    const [stored] = await db
      .select()
      .from(ledgerRequests)
      .where(
        and(
          eq(ledgerRequests.programId, req.programId),
          eq(ledgerRequests.origin, req.origin),
          eq(ledgerRequests.idempotencyKey, req.idempotencyKey),
        ),
      )
      .limit(1);
    if (!stored) return null;
    if (stored.requestHash !== req.requestHash || stored.memberId !== req.memberId) {
      return { ok: false, code: "idempotency_conflict", message: "This Idempotency-Key was already used with a different request" };
    }
    return { ok: true, status: stored.status as 200 | 201, body: stored.response as T, replayed: true };
  }
}
