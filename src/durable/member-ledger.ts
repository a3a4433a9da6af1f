import { DurableObject } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { type keyOrigins, ledgerRequests, partnerMembers, redemptions } from "../../schema";
import { isDatabaseUnavailable, ledgerUnavailable } from "../db/availability";
import { type Database, database, type WriteMeter } from "../db/client";
import { type Env, settingsOf } from "../env";
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
import { planTierGift, type TierGiftInput } from "../ledger/operations/issue-tier-gift";
import { type MergeActor, type MergeOutResult, mergedError, planMergeIn, planMergeOut } from "../ledger/operations/merge";
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
import { type PendingSync, type QueuedItem, type QueuedOperation, type QueuedWriteView, queuedView, WriteQueue } from "./write-queue";

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

/** The member's balance as the database last confirmed it to this object, and when. */
type ConfirmedBalance = { balance: { available: number; pending: number; reserved: number; total: number; debt: number }; at: string };

/** What a member lookup answers: the view (or null: no such member), its age, and what waits in the queue. */
export type MemberViewAnswer =
  | { view: MemberView | null; ageSeconds: number; pendingSync: PendingSync; unavailable?: false }
  | { view: null; ageSeconds: 0; pendingSync: PendingSync; unavailable: true };

/** A queued write that keeps failing for a reason other than the database being away is given up after this many tries. */
const MAX_UNEXPECTED_ATTEMPTS = 10;
/** Retry delays of a blocked queue: doubling from one second, at most five, so a database that is back is used within seconds. */
const retryDelayMs = (attempts: number) => Math.min(1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 3), 5_000);
/**
 * A merge's mark on this object, kept in its durable storage: `lockedBy` while a merge that
 * involves the member runs (every other write is refused, 409 merge_in_progress), `mergedInto`
 * once the member was merged away (every write is refused, 409 member_merged).
 */
type MergeMark = { lockedBy?: string; mergedInto?: string };
const MERGE_MARK = "merge";

const isConstraintFailure = (err: unknown) => /CHECK constraint failed|negative_balance|SQLITE_CONSTRAINT/i.test(errorChainText(err));
const isDuplicateRequest = (err: unknown) => /UNIQUE constraint failed: ledger_requests/i.test(errorChainText(err));

/**
 * One instance per (program, member): every ledger write for that member runs here, one
 * at a time, and commits as one libSQL batch with its idempotency record.
 */
export class MemberLedger extends DurableObject<Env> {
  #mutex = new Mutex();
  #view = new MemberViewCache();
  /** Accruals and redemptions accepted while the database was out of reach, in this object's durable storage. */
  #queue: WriteQueue;
  /** Writes started and still running: a lookup that overlapped one does not record its balance as confirmed. */
  #writesStarted = 0;
  #writesRunning = 0;
  /**
   * Until when (ms) writes do not try the database again after it was found out of reach: they
   * wait in the queue (or are refused) at once, rather than each paying a failed connection —
   * up to the write budget when the database's host does not answer at all. Memory only: a
   * restarted object simply tries once more.
   */
  #unreachableUntil = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#queue = new WriteQueue(ctx.storage.sql);
  }

  /** A database handle whose round trips give up after the write budget (then a write is queued). */
  #db(meter?: WriteMeter): Database {
    return database(this.env, { roundTripTimeoutMs: settingsOf(this.env).LEDGER_WRITE_BUDGET_MS, meter });
  }

  /**
   * The member's lookup view from memory when younger than `maxAgeSeconds` (0: read now), with what
   * still waits to be applied. Not behind the write mutex: a lookup never waits for a write, and a
   * write invalidates the view. With the database out of reach, the last view read, its balance
   * replaced by the last one a write confirmed when that is newer.
   */
  async view(programId: string, memberId: string, maxAgeSeconds: number): Promise<MemberViewAnswer> {
    const ctx = { env: this.env, db: this.#db(), requestId: "member-ledger" };
    const writesBefore = this.#writesRunning === 0 ? this.#writesStarted : -1;
    const pendingSync = () => this.#queue.pendingSync();
    try {
      const { view, ageMs } = await this.#view.get(
        () =>
          getMember({ ctx, input: { programId, memberId, withSegments: true } }).catch((err) =>
            err instanceof AppError && err.code === "not_found" ? null : Promise.reject(err),
          ),
        maxAgeSeconds * 1000,
      );
      // A balance read now, with no write since the read began, is what the database holds.
      if (view && ageMs === 0 && this.#writesRunning === 0 && this.#writesStarted === writesBefore && !this.#queue.hasPending())
        await this.#confirm(view.balance, new Date().toISOString());
      return { view, ageSeconds: Math.floor(ageMs / 1000), pendingSync: pendingSync() };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const last = this.#view.lastKnown();
      if (!last) return { view: null, ageSeconds: 0, pendingSync: pendingSync(), unavailable: true };
      const confirmed = await this.ctx.storage.get<ConfirmedBalance>("confirmed");
      const loadedAt = new Date(last.loadedAt).toISOString();
      const balance = confirmed && confirmed.at > loadedAt ? confirmed.balance : last.view.balance;
      return {
        view: { ...last.view, balance },
        ageSeconds: Math.floor((Date.now() - last.loadedAt) / 1000),
        pendingSync: pendingSync(),
      };
    }
  }

  /** What waits to be applied (the balance route adds it to its answer). */
  pendingSync(): PendingSync {
    return this.#queue.pendingSync();
  }

  /**
   * A write stored while the database was away, for the principal that may see it: an admin key
   * any of the program's, a partner key its partner's, a storefront key those no partner sent.
   */
  queuedWrite(programId: string, id: string, reader: { scope: string; partner: string | null }): QueuedWriteView | null {
    const item = this.#queue.byId(id);
    if (!item || item.programId !== programId) return null;
    const partner = item.source ? (JSON.parse(item.source) as { partner: string | null }).partner : null;
    if (reader.scope === "partner" && (partner === null || partner !== reader.partner)) return null;
    if (reader.scope === "storefront" && partner !== null) return null;
    return queuedView(item);
  }

  /** Drop the cached view (after a change made outside this object, e.g. an admin edit). */
  forget() {
    this.#view.invalidate();
  }

  // One method per operation; each runs its planner under the write mutex. The second argument
  // names the operation in its idempotency record.
  /** A purchase; with the database out of reach it waits in this object's queue (202). */
  accrue(req: WriteRequest, input: PurchaseInput) {
    return this.#writeOrQueue(req, "accrue", input);
  }
  /**
   * Redeem at checkout; a reserve (`capture: false`) also sets this object's alarm for its
   * expiry, before the write, so a hold is released even if the checkout never comes back. An
   * immediate redemption may wait in the queue within the confirmed balance; a reserve may not
   * (its id and hold exist only in the database).
   */
  async redeem(req: WriteRequest, input: CheckoutInput) {
    const parsed = CheckoutInputSchema.safeParse(input);
    if (parsed.success && parsed.data.capture) return this.#writeOrQueue(req, "redeem", input);
    if (parsed.success) await this.#remindAt(req, Date.now() + parsed.data.holdSeconds * 1000);
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
   * One alarm for two duties: first the queue of writes stored while the database was away is
   * applied, in order; then reserves past their time go back to their lots, each by its own
   * idempotent system write (`hold:<id>:expire`). The next alarm is the earliest of a retry of a
   * blocked queue and the next reserve's expiry. The database is the source of truth for
   * reserves (not this object's storage), so a reserve whose write committed is always found. A
   * write refused for another reason than the database being away throws, and the runtime
   * retries the alarm.
   */
  async alarm() {
    const who = await this.ctx.storage.get<{ programId: string; memberId: string }>("member");
    if (!who) return;
    this.#unreachableUntil = 0; // the alarm is the retry
    const drained = await this.#mutex.run(() => this.#drain());
    let next: number | null = drained ? null : Date.now() + retryDelayMs(this.#queue.head()?.attempts ?? 1);
    const failures: string[] = [];
    try {
      const holds = await this.#expireHolds(who);
      failures.push(...holds.failures);
      if (holds.next !== null) next = next === null ? holds.next : Math.min(next, holds.next);
      if (holds.blocked) next = Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + retryDelayMs(1));
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      next = Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + retryDelayMs(1));
    }
    if (next !== null) {
      // A write during this run may have asked for an earlier alarm; one in the past is this run's.
      const current = await this.ctx.storage.getAlarm();
      if (current === null || current <= Date.now() || current > next) await this.ctx.storage.setAlarm(next);
    }
    if (failures.length > 0) throw new Error(`Reserves not expired: ${failures.join(", ")}`);
  }

  async #expireHolds(who: { programId: string; memberId: string }) {
    const open = await this.#db()
      .select({ id: redemptions.id, expiresAt: redemptions.expiresAt })
      .from(redemptions)
      .where(and(eq(redemptions.programId, who.programId), eq(redemptions.memberId, who.memberId), eq(redemptions.status, "reserved")));
    const now = nowIso();
    let next: string | null = null;
    let blocked = false;
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
      if (!result.ok && result.code === "ledger_unavailable") blocked = true;
      else if (!result.ok) failures.push(`${r.id}: ${result.code}`);
    }
    return { next: next === null ? null : Date.parse(next), failures, blocked };
  }
  /**
   * Lock this member for merge `mergeId` (re-entrant for the same merge): until unlocked, every
   * other write is refused. Refused if another merge holds it or the member was merged away.
   * The coordinator (src/services/members/merge.ts) locks the two members in id order.
   */
  lockForMerge(mergeId: string): Promise<LedgerResult<{ locked: true }>> {
    return this.#mutex.run(async () => {
      const mark = (await this.ctx.storage.get<MergeMark>(MERGE_MARK)) ?? {};
      if (mark.lockedBy === mergeId) return { ok: true, status: 200, body: { locked: true }, replayed: false } as const;
      if (mark.mergedInto) return failure(mergedError(mark.mergedInto));
      if (mark.lockedBy)
        return failure(new AppError("merge_in_progress", "Another merge involving this member is in progress; retry later"));
      await this.ctx.storage.put(MERGE_MARK, { ...mark, lockedBy: mergeId });
      return { ok: true, status: 200, body: { locked: true }, replayed: false } as const;
    });
  }
  /** Release the lock of merge `mergeId` (no-op if it does not hold it). */
  unlockMerge(mergeId: string): Promise<void> {
    return this.#mutex.run(async () => {
      const mark = (await this.ctx.storage.get<MergeMark>(MERGE_MARK)) ?? {};
      if (mark.lockedBy !== mergeId) return;
      const { lockedBy: _, ...rest } = mark;
      await this.ctx.storage.put(MERGE_MARK, rest);
    });
  }
  /** Merge step 1 (this member is merged away): idempotent by its system key; then this object answers only with the redirect. */
  async mergeOut(req: WriteRequest, input: { mergeId: string; targetId: string }) {
    const result = await this.#write(req, "member.merge.out", (scope) => planMergeOut(scope, input), input.mergeId);
    if (result.ok) await this.#mutex.run(() => this.ctx.storage.put(MERGE_MARK, { lockedBy: input.mergeId, mergedInto: input.targetId }));
    return result;
  }
  /** Merge step 2 (this member receives): idempotent by its system key. */
  mergeIn(req: WriteRequest, input: { mergeId: string; out: MergeOutResult; actor: MergeActor }) {
    return this.#write(req, "member.merge.in", (scope) => planMergeIn(scope, input), input.mergeId);
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
  /** The birthday gift the member's tier grants (a catalog reward as a coupon), under a system key. */
  issueTierGift(req: WriteRequest, input: TierGiftInput) {
    if (req.origin !== "system") return Promise.resolve(failure(new AppError("forbidden", "Tier gifts are issued by the system only")));
    return this.#write(req, "tier.gift", (scope) => planTierGift(scope, input));
  }
  /** A bonus only the system awards (signup, birthday, referral, anniversary), under a system key. */
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
        // A tombstone may still be erased (its ids are all it keeps); a member mid-merge may not.
        const mark = await this.ctx.storage.get<MergeMark>(MERGE_MARK);
        if (mark?.lockedBy && !mark.mergedInto) throw new AppError("merge_in_progress", "This member is being merged; retry in a moment");
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
        const mark = await this.ctx.storage.get<MergeMark>(MERGE_MARK);
        if (mark?.mergedInto) throw mergedError(mark.mergedInto);
        if (mark?.lockedBy) throw new AppError("merge_in_progress", "This member is being merged; retry in a moment");
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

  /**
   * Writes to a member that a merge holds or took away are refused (after a replay check, so a
   * retry of a write that committed before still gets its answer); `mergeId` is the merge's own.
   */
  async #refusedByMerge(req: WriteRequest, mergeId: string | undefined): Promise<LedgerResult<never> | null> {
    const mark = await this.ctx.storage.get<MergeMark>(MERGE_MARK);
    if (!mark || (!mark.mergedInto && (!mark.lockedBy || mark.lockedBy === mergeId))) return null;
    if (mark.lockedBy === mergeId && mergeId !== undefined) return null;
    const replay = await this.#replay<never>(database(this.env), req).catch(() => null);
    if (replay) return replay;
    if (mark.mergedInto) return failure(mergedError(mark.mergedInto));
    return failure(new AppError("merge_in_progress", "This member is being merged; retry in a moment"));
  }

  /**
   * A write that cannot wait in the queue: behind the queue's writes (applied first, so the
   * member's writes stay in order), or 503 ledger_unavailable while the database is out of reach.
   */
  #write<T>(
    req: WriteRequest,
    operation: string,
    plan: (scope: WriteScope) => Promise<Plan<T>>,
    mergeId?: string,
  ): Promise<LedgerResult<T>> {
    return this.#mutex.run(async () => {
      const refused = await this.#refusedByMerge(req, mergeId);
      if (refused) return refused;
      if (this.#queue.hasPending() && !(await this.#drain()))
        return failure(ledgerUnavailable("The database is out of reach and this member has writes waiting to be applied; retry later"));
      if (Date.now() < this.#unreachableUntil)
        return failure(ledgerUnavailable("The database is out of reach; retry later with the same Idempotency-Key"));
      try {
        return await this.#writeNow(req, operation, plan);
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        this.#unreachableUntil = Date.now() + retryDelayMs(1);
        return failure(ledgerUnavailable("The database is out of reach; retry later with the same Idempotency-Key"));
      }
    });
  }

  /**
   * An accrual or an immediate redemption: applied now when the database answers within the
   * write budget, else stored in this object's queue and answered 202 with the stored write
   * (GET …/queued-writes/{id}). The same key again answers from the queue: the same 202 while it
   * waits, the write's own answer once applied.
   */
  #writeOrQueue(req: WriteRequest, operation: QueuedOperation, input: PurchaseInput | CheckoutInput): Promise<LedgerResult> {
    return this.#mutex.run(async () => {
      const known = this.#queue.byKey(req.origin, req.idempotencyKey);
      if (known) return answerOf(known, req);
      const refused = await this.#refusedByMerge(req, undefined);
      if (refused) return refused;
      // Writes already waiting go first; while they cannot, this one waits behind them.
      if (Date.now() < this.#unreachableUntil || (this.#queue.hasPending() && !(await this.#drain())))
        return this.#enqueue(req, operation, input);
      try {
        return await this.#writeNow(req, operation, plannerOf(operation, input));
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        this.#unreachableUntil = Date.now() + retryDelayMs(1);
        return this.#enqueue(req, operation, input);
      }
    });
  }

  /**
   * Store a write for later. A redemption spends only what the database last confirmed to this
   * object, less what queued redemptions already take; without that knowledge it is refused.
   */
  async #enqueue(req: WriteRequest, operation: QueuedOperation, input: PurchaseInput | CheckoutInput): Promise<LedgerResult> {
    let spend = 0;
    let amount = 0;
    if (operation === "redeem") {
      const points = (input as CheckoutInput).points;
      const confirmed = await this.ctx.storage.get<ConfirmedBalance>("confirmed");
      if (!confirmed)
        return failure(
          ledgerUnavailable(
            "The database is out of reach and this member's confirmed balance is not known here, so no points can be spent now; retry later",
            { reason: "balance_unknown" },
          ),
        );
      const spendable = Math.max(0, confirmed.balance.available - this.#queue.pendingSync().points);
      if (points > spendable)
        return failure(
          ledgerUnavailable(
            `The database is out of reach: at most ${spendable} points (the balance last confirmed, less redemptions waiting to be applied) can be spent now; retry later`,
            { reason: "exceeds_confirmed_balance", spendableOffline: spendable, confirmedAt: confirmed.at },
          ),
        );
      spend = points;
    } else amount = (input as PurchaseInput).amount;
    const item = this.#queue.add({
      origin: req.origin,
      idempotencyKey: req.idempotencyKey,
      requestHash: req.requestHash,
      programId: req.programId,
      memberId: req.memberId,
      operation,
      request: JSON.stringify(req),
      input: JSON.stringify(input),
      amount,
      spend,
      acceptedAt: nowIso(),
      source: req.source ? JSON.stringify(req.source) : null,
    });
    // Whose object this is (for the alarm), and the alarm that applies the queue.
    await this.#remindAt(req, Date.now() + retryDelayMs(1));
    writeMetric(this.env, "ledger_write", [operation, "queued", req.programId], [0, 0, 0, 1]);
    return { ok: true, status: 202, body: queuedView(item), replayed: false };
  }

  /**
   * Apply the queue in order, each write as of when it was accepted and under its own idempotency
   * record (a write whose batch committed before the database went away replays its answer). True
   * when the queue is empty; false when the database is still out of reach (the rest waits).
   */
  async #drain(): Promise<boolean> {
    for (let item = this.#queue.head(); item; item = this.#queue.head()) {
      const req = JSON.parse(item.request) as WriteRequest;
      const input = JSON.parse(item.input) as PurchaseInput & CheckoutInput;
      let result: LedgerResult;
      try {
        result = await this.#writeNow(req, item.operation, plannerOf(item.operation, input), item.acceptedAt);
      } catch (err) {
        const attempts = this.#queue.attempted(item.seq);
        if (isDatabaseUnavailable(err)) {
          this.#unreachableUntil = Date.now() + retryDelayMs(attempts);
          return false;
        }
        console.error(JSON.stringify({ level: "error", job: "member-ledger.drain", queuedWrite: item.id, attempts, message: String(err) }));
        if (attempts < MAX_UNEXPECTED_ATTEMPTS) return false;
        result = { ok: false, code: "internal_error", message: "The stored write could not be applied" };
      }
      this.#queue.finish(item.seq, result, nowIso());
    }
    this.#queue.prune(Date.now());
    return true;
  }

  /** Record the balance a committed write answered (or a fresh lookup read) as the database's. */
  async #confirm(balance: unknown, at: string) {
    const b = balance as ConfirmedBalance["balance"] | undefined;
    if (!b || typeof b.available !== "number") return;
    await this.ctx.storage.put("confirmed", { balance: b, at } satisfies ConfirmedBalance);
  }

  /** One write now (as of `now`, default the present), measured; throws when the database cannot be reached. */
  async #writeNow<T>(
    req: WriteRequest,
    operation: string,
    plan: (scope: WriteScope) => Promise<Plan<T>>,
    now?: string,
  ): Promise<LedgerResult<T>> {
    this.#writesStarted++;
    this.#writesRunning++;
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
      const result = await this.#attempt(req, operation, plan, () => ++attempts, now);
      measure(result.ok ? (result.replayed ? "replayed" : "committed") : result.code === "conflict" ? "conflict" : "rejected");
      if (result.ok && !result.replayed) await this.#confirm((result.body as { balance?: unknown })?.balance, nowIso());
      return result;
    } catch (err) {
      measure(isDatabaseUnavailable(err) ? "unavailable" : "error");
      throw err;
    } finally {
      this.#writesRunning--;
    }
  }

  async #attempt<T>(
    req: WriteRequest,
    operation: string,
    plan: (scope: WriteScope) => Promise<Plan<T>>,
    countAttempt: () => number,
    now?: string,
  ): Promise<LedgerResult<T>> {
    const meter: WriteMeter = { rowsWritten: 0 };
    const db = this.#db(meter);
    const newScope = (): WriteScope => ({
      db,
      programId: req.programId,
      memberId: req.memberId,
      requestKey: req.idempotencyKey,
      actor: req.actor,
      ...(req.source ? { source: req.source } : {}),
      now: now ?? nowIso(),
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

/** The planner of a write the queue may hold. */
function plannerOf(operation: QueuedOperation, input: PurchaseInput | CheckoutInput): (scope: WriteScope) => Promise<Plan<unknown>> {
  return operation === "accrue"
    ? (scope) => planAccrual(scope, input as PurchaseInput)
    : (scope) => planCheckoutRedemption(scope, input as CheckoutInput);
}

/** A key the queue already holds: the same 202 while it waits, the write's own answer once applied. */
function answerOf(item: QueuedItem, req: WriteRequest): LedgerResult {
  if (item.requestHash !== req.requestHash || item.memberId !== req.memberId)
    return { ok: false, code: "idempotency_conflict", message: "This Idempotency-Key was already used with a different request" };
  if (item.status === "pending" || !item.result) return { ok: true, status: 202, body: queuedView(item), replayed: true };
  const result = JSON.parse(item.result) as LedgerResult;
  return result.ok ? { ...result, replayed: true } : result;
}
