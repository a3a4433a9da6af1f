/**
 * Typed client for storefronts, POS and scripts: `createLoyaltyClient({ baseUrl, apiKey })`.
 *
 * Request and response types are derived from the very route definitions the API validates
 * with (`z.input` of each route's request schema, `z.output` of its response schema), through
 * type-only imports: nothing of the server is bundled, the runtime is `fetch` alone, so it
 * runs in browsers, Workers, Node ≥ 18 and Deno.
 *
 * Reliability: writes carry an Idempotency-Key (an accrual defaults to `accrual:<orderId>`);
 * network errors, timeouts, 429 (after Retry-After) and 5xx are retried with the same key, so
 * a retry can never double-count. Errors throw `LoyaltyApiError` with the API's code.
 */
import type { z } from "zod";
import type { ErrorCode } from "../lib/errors";
import type { cancelCouponRoute } from "../routes/coupons/cancel-coupon";
import type { consumeCouponRoute } from "../routes/coupons/consume-coupon";
import type { getCouponRoute } from "../routes/coupons/get-coupon";
import type { recordFeedbackRoute } from "../routes/feedback/post-feedback";
import type { accruePointsRoute } from "../routes/ledger/accrue";
import type { adjustPointsRoute } from "../routes/ledger/adjust";
import type { getBalanceRoute } from "../routes/ledger/balance";
import type { getRedemptionRoute } from "../routes/ledger/get-redemption";
import type { listLedgerEntriesRoute } from "../routes/ledger/list-ledger";
import type { redeemPointsRoute } from "../routes/ledger/redeem";
import type { refundOrderRoute } from "../routes/ledger/refund";
import type { captureRedemptionRoute } from "../routes/ledger/settle-redemption";
import type { recordActivityRoute } from "../routes/loyalty/activities";
import type { getMemberTierRoute } from "../routes/loyalty/member-tier";
import type { quotePurchaseRoute } from "../routes/loyalty/quote";
import type { changeMemberTagsRoute } from "../routes/members/change-tags";
import type { getMemberRoute } from "../routes/members/get-member";
import type { registerMemberRoute } from "../routes/members/register-member";
import type { updateMemberRoute } from "../routes/members/update-member";
import type { listMemberReferralsRoute } from "../routes/referrals/member-referrals";
import type { listRewardsRoute } from "../routes/rewards/list-rewards";
import type { listMemberRewardsRoute } from "../routes/rewards/member-rewards";
import type { redeemRewardRoute } from "../routes/rewards/redeem-reward";

// ---- Types derived from the route definitions ------------------------------------------------

type JsonSchemaOf<C> = C extends { content: { "application/json": { schema: infer S } } } ? S : never;
type Input<S> = S extends z.ZodType ? z.input<S> : never;
type Output<S> = S extends z.ZodType ? z.output<S> : never;

/** The JSON body a route accepts. */
export type BodyOf<R> = R extends { request: { body: infer B } } ? Input<JsonSchemaOf<B>> : never;
/** The query string a route accepts. */
export type QueryOf<R> = R extends { request: { query: infer Q } } ? Input<Q> : never;
/** The JSON a route answers with `status`. */
export type ResponseOf<R, Status extends number> = R extends { responses: infer Rs }
  ? Status extends keyof Rs
    ? Output<JsonSchemaOf<Rs[Status]>>
    : never
  : never;

export type Member = ResponseOf<typeof getMemberRoute.route, 200>;
export type RegisterMemberInput = BodyOf<typeof registerMemberRoute.route>;
export type UpdateMemberInput = BodyOf<typeof updateMemberRoute.route>;
export type ChangeTagsInput = BodyOf<typeof changeMemberTagsRoute.route>;
export type AccrualInput = BodyOf<typeof accruePointsRoute.route>;
export type RedemptionInput = BodyOf<typeof redeemPointsRoute.route>;
export type AdjustmentInput = BodyOf<typeof adjustPointsRoute.route>;
export type RefundInput = BodyOf<typeof refundOrderRoute.route>;
export type ActivityInput = BodyOf<typeof recordActivityRoute.route>;
export type QuoteInput = BodyOf<typeof quotePurchaseRoute.route>;
export type ConsumeCouponInput = BodyOf<typeof consumeCouponRoute.route>;
export type FeedbackInput = BodyOf<typeof recordFeedbackRoute.route>;
/** A redemption (captured at once, or a reserve with `capture: false`), its entries and the balance after it. */
export type CheckoutRedemption = ResponseOf<typeof redeemPointsRoute.route, 201>;
export type RedemptionRecord = ResponseOf<typeof getRedemptionRoute.route, 200>;
/** Capture or reverse part of a redemption (default: all that is left). */
export type RedemptionPointsInput = BodyOf<typeof captureRedemptionRoute.route>;
/** Entries written and the balance after a points write (accrual, redemption, adjustment, refund, activity). */
export type LedgerWrite = ResponseOf<typeof accruePointsRoute.route, 201>;
export type Balance = ResponseOf<typeof getBalanceRoute.route, 200>;
export type LedgerPage = ResponseOf<typeof listLedgerEntriesRoute.route, 200>;
export type TierProgress = ResponseOf<typeof getMemberTierRoute.route, 200>;
export type Quote = ResponseOf<typeof quotePurchaseRoute.route, 200>;
export type Coupon = ResponseOf<typeof getCouponRoute.route, 200>;
export type CouponCancellation = ResponseOf<typeof cancelCouponRoute.route, 200>;
export type RewardList = ResponseOf<typeof listRewardsRoute.route, 200>;
export type MemberRewards = ResponseOf<typeof listMemberRewardsRoute.route, 200>;
export type RewardRedemption = ResponseOf<typeof redeemRewardRoute.route, 201>;
export type MemberReferrals = ResponseOf<typeof listMemberReferralsRoute.route, 200>;
export type FeedbackResult = ResponseOf<typeof recordFeedbackRoute.route, 201>;

// ---- Errors ----------------------------------------------------------------------------------

/** An error answer of the API (`{error: {code, message, requestId, details?}}`), or a transport failure (status 0). */
export class LoyaltyApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | "network_error" | "timeout" | "invalid_response",
    message: string,
    readonly requestId: string | null = null,
    readonly details?: unknown,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "LoyaltyApiError";
  }
}

// ---- The client ------------------------------------------------------------------------------

export type LoyaltyClientOptions = {
  /** e.g. https://loyalty.example.com (no trailing /v1). */
  baseUrl: string;
  /** A storefront, partner or admin key: `le_store_…`, `le_partner_…`, `le_admin_…`. */
  apiKey: string;
  /** Defaults to the global fetch; pass one to add tracing, or a Worker service binding's fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Retries after the first attempt for network errors, timeouts, 429 and 5xx. Default 2. */
  retries?: number;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Longest wait honoured from Retry-After before giving up. Default 5 s. */
  maxRetryAfterMs?: number;
};

type Write = { idempotencyKey: string };
type Query = Record<string, string | number | boolean | undefined>;
type RequestSpec = { body?: unknown; query?: Query; idempotencyKey?: string; headers?: Record<string, string> };

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const enc = encodeURIComponent;

/** A key for a write with no natural one, made once per call so that call's retries reuse it (Node 18 lacks a global crypto). */
const freshKey = (label: string) =>
  `${label}:${typeof crypto !== "undefined" && typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`}`;

export function createLoyaltyClient(options: LoyaltyClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const retries = options.retries ?? 2;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5_000;

  /** One API call with retries; every attempt of a write carries the same Idempotency-Key. */
  async function request<T>(method: string, path: string, spec: RequestSpec = {}): Promise<{ status: number; body: T }> {
    const qs = spec.query
      ? new URLSearchParams(
          Object.entries(spec.query)
            .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
            .map(([k, v]): [string, string] => [k, String(v)]),
        ).toString()
      : "";
    const url = `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
    const headers: Record<string, string> = { ...spec.headers, authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    if (spec.idempotencyKey !== undefined) headers["idempotency-key"] = spec.idempotencyKey;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);

    for (let attempt = 0; ; attempt++) {
      let error: LoyaltyApiError;
      try {
        const res = await doFetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
        const text = await res.text();
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          if (res.ok)
            throw new LoyaltyApiError(res.status, "invalid_response", `Expected JSON from ${method} ${path}, got: ${text.slice(0, 200)}`);
        }
        if (res.ok) return { status: res.status, body: json as T };
        const e = (json as { error?: { code?: ErrorCode; message?: string; requestId?: string; details?: unknown } } | null)?.error;
        const retryAfter = Number(res.headers.get("retry-after"));
        error = new LoyaltyApiError(
          res.status,
          e?.code ?? "internal_error",
          e?.message ?? `${method} ${path} answered ${res.status}`,
          e?.requestId ?? res.headers.get("x-request-id"),
          e?.details,
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
        );
        if (!RETRYABLE_STATUS.has(res.status)) throw error;
      } catch (err) {
        if (err instanceof LoyaltyApiError && !RETRYABLE_STATUS.has(err.status)) throw err;
        error =
          err instanceof LoyaltyApiError
            ? err
            : (err as Error)?.name === "TimeoutError"
              ? new LoyaltyApiError(0, "timeout", `${method} ${path} did not answer within ${timeoutMs} ms`)
              : new LoyaltyApiError(0, "network_error", `${method} ${path} failed: ${String((err as Error)?.message ?? err)}`);
      }
      const waitMs = error.retryAfterSeconds != null ? error.retryAfterSeconds * 1000 : 200 * 2 ** attempt + Math.random() * 100;
      if (attempt >= retries || waitMs > maxRetryAfterMs) throw error;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  const body = async <T>(method: string, path: string, spec?: RequestSpec) => (await request<T>(method, path, spec)).body;

  return {
    /** Any route, for what the typed methods do not cover (admin configuration, analytics…). */
    request,

    members: {
      /** Idempotent on externalId: `created` is false when the member already existed. */
      async register(input: RegisterMemberInput): Promise<{ member: Member; created: boolean }> {
        const res = await request<Member>("POST", "/v1/members", { body: input });
        return { member: res.body, created: res.status === 201 };
      },
      /**
       * The member as the storefront shows them. Served from the member's ledger object: their own
       * points changes show at once, the nightly jobs' within seconds; `fresh` reads the database now.
       */
      get: (memberId: string, opts: { fresh?: boolean } = {}) =>
        body<Member>("GET", `/v1/members/${enc(memberId)}`, opts.fresh ? { headers: { "cache-control": "no-cache" } } : undefined),
      /** By the storefront's own customer id; 404 (LoyaltyApiError not_found) if unknown. */
      findByExternalId: (externalId: string) => body<Member>("GET", "/v1/members", { query: { externalId } }),
      update: (memberId: string, input: UpdateMemberInput) => body<Member>("PATCH", `/v1/members/${enc(memberId)}`, { body: input }),
      changeTags: (memberId: string, input: ChangeTagsInput) => body<Member>("POST", `/v1/members/${enc(memberId)}/tags`, { body: input }),
      /** Admin key: GDPR erasure (the ledger stays balanced). */
      erase: (memberId: string) => body<Member>("POST", `/v1/members/${enc(memberId)}/erase`),
      balance: (memberId: string) => body<Balance>("GET", `/v1/members/${enc(memberId)}/balance`),
      ledger: (memberId: string, page: { limit?: number; cursor?: string } = {}) =>
        body<LedgerPage>("GET", `/v1/members/${enc(memberId)}/ledger`, { query: page }),
      /** Current tier, benefits and what is missing for the next one. */
      tier: (memberId: string) => body<TierProgress>("GET", `/v1/members/${enc(memberId)}/tier`),
      rewards: (memberId: string) => body<MemberRewards>("GET", `/v1/members/${enc(memberId)}/rewards`),
      referrals: (memberId: string, page: { limit?: number; cursor?: string } = {}) =>
        body<MemberReferrals>("GET", `/v1/members/${enc(memberId)}/referrals`, { query: page }),
      /** Pass your own key to make your own retries safe too; by default each call gets a fresh one. */
      feedback: (memberId: string, input: FeedbackInput, opts: Partial<Write> = {}) =>
        body<FeedbackResult>("POST", `/v1/members/${enc(memberId)}/feedback`, {
          body: input,
          idempotencyKey: opts.idempotencyKey ?? freshKey("feedback"),
        }),
    },

    points: {
      /** Earn for a purchase. The Idempotency-Key defaults to `accrual:<orderId>`, so resubmitting an order never earns twice. */
      accrue: (memberId: string, input: AccrualInput, opts: Partial<Write> = {}) =>
        body<LedgerWrite>("POST", `/v1/members/${enc(memberId)}/accruals`, {
          body: input,
          idempotencyKey: opts.idempotencyKey ?? `accrual:${input.orderId}`,
        }),
      /** Spend points at checkout, or reserve them (`capture: false`); 409 insufficient_points when the available balance is short. */
      redeem: (memberId: string, input: RedemptionInput, opts: Write) =>
        body<CheckoutRedemption>("POST", `/v1/members/${enc(memberId)}/redemptions`, { body: input, idempotencyKey: opts.idempotencyKey }),
      /** A redemption's state. */
      redemption: (redemptionId: string) => body<RedemptionRecord>("GET", `/v1/redemptions/${enc(redemptionId)}`),
      /** Capture a reserve, all or `points` of it (the rest goes back); 409 redemption_expired once it lapsed. */
      capture: (redemptionId: string, input: RedemptionPointsInput, opts: Write) =>
        body<CheckoutRedemption>("POST", `/v1/redemptions/${enc(redemptionId)}/capture`, {
          body: input,
          idempotencyKey: opts.idempotencyKey,
        }),
      /** Release a reserve: its points go back to their lots. */
      void: (redemptionId: string, opts: Write) =>
        body<CheckoutRedemption>("POST", `/v1/redemptions/${enc(redemptionId)}/void`, { idempotencyKey: opts.idempotencyKey }),
      /** Undo a captured redemption (order cancelled), all or `points` of it: back to the original lots. */
      reverse: (redemptionId: string, input: RedemptionPointsInput, opts: Write) =>
        body<CheckoutRedemption>("POST", `/v1/redemptions/${enc(redemptionId)}/reverse`, {
          body: input,
          idempotencyKey: opts.idempotencyKey,
        }),
      /** Admin key: a ± correction. */
      adjust: (memberId: string, input: AdjustmentInput, opts: Write) =>
        body<LedgerWrite>("POST", `/v1/members/${enc(memberId)}/adjustments`, { body: input, idempotencyKey: opts.idempotencyKey }),
      /** Reverse the points an order earned, in proportion to the amount refunded. */
      refund: (orderId: string, input: RefundInput, opts: Write) =>
        body<LedgerWrite>("POST", `/v1/orders/${enc(orderId)}/refunds`, { body: input, idempotencyKey: opts.idempotencyKey }),
      /** A review, survey, check-in… runs the earning rules for that kind. */
      activity: (memberId: string, input: ActivityInput, opts: Write) =>
        body<LedgerWrite>("POST", `/v1/members/${enc(memberId)}/activities`, { body: input, idempotencyKey: opts.idempotencyKey }),
      /** What a cart would earn, by the same rules, without writing. */
      quote: (input: QuoteInput) => body<Quote>("POST", "/v1/quote", { body: input }),
    },

    rewards: {
      list: (query: { active?: "true" | "false" } = {}) => body<RewardList>("GET", "/v1/rewards", { query }),
      /** Spend points on a reward: issues a unique coupon code. */
      redeem: (memberId: string, rewardId: string, opts: Write) =>
        body<RewardRedemption>("POST", `/v1/members/${enc(memberId)}/rewards/${enc(rewardId)}/redeem`, {
          idempotencyKey: opts.idempotencyKey,
        }),
    },

    coupons: {
      /** Whether a code can be used now (valid, or a reason why not); writes nothing. */
      validate: (code: string, query: { memberId?: string } = {}) => body<Coupon>("GET", `/v1/coupons/${enc(code)}`, { query }),
      /** Use a code once; 409 coupon_not_valid if it was used, cancelled or expired. */
      consume: (code: string, input: ConsumeCouponInput = {}) => body<Coupon>("POST", `/v1/coupons/${enc(code)}/consume`, { body: input }),
      /** Cancel an unused code and give its points back. */
      cancel: (code: string) => body<CouponCancellation>("POST", `/v1/coupons/${enc(code)}/cancel`),
    },
  };
}

export type LoyaltyClient = ReturnType<typeof createLoyaltyClient>;
