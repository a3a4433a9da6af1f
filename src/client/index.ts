/**
 * Typed client for storefronts, POS and scripts: `createLoyaltyClient({ baseUrl, apiKey })`.
 *
 * Derived from the OpenAPI document: `./api.d.ts` is generated from it by openapi-typescript
 * (`npm run client:types`; test/node/client-types.test.ts fails when it is stale), and every call
 * goes through openapi-fetch typed by it — a path, parameter, body or response that does not
 * match the document is a type error. Nothing of the server is bundled; the runtime is
 * openapi-fetch over `fetch`, so it runs in browsers, Workers, Node and Deno.
 *
 * Reliability: writes carry an Idempotency-Key (an accrual defaults to `accrual:<orderId>`);
 * network errors, timeouts, 429 (after Retry-After) and 5xx are retried with the same key, so
 * a retry can never double-count. Errors throw `LoyaltyApiError` with the API's code.
 */
import createClient from "openapi-fetch";
import type { components, operations, paths } from "./api";

// ---- Types derived from the document ---------------------------------------------------------

type JsonOf<C> = C extends { content: { "application/json": infer J } } ? J : never;
/** The JSON body an operation accepts. */
export type BodyOf<Id extends keyof operations> = operations[Id] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;
/** The JSON an operation answers with `status`. */
export type ResponseOf<Id extends keyof operations, Status extends number> = operations[Id] extends { responses: infer Rs }
  ? Status extends keyof Rs
    ? JsonOf<Rs[Status]>
    : never
  : never;

export type Member = components["schemas"]["Member"];
export type RegisterMemberInput = BodyOf<"members.register">;
export type UpdateMemberInput = BodyOf<"members.update">;
export type ChangeTagsInput = BodyOf<"members.tags.change">;
export type AccrualInput = BodyOf<"members.accruals.create">;
export type RedemptionInput = BodyOf<"members.redemptions.create">;
export type AdjustmentInput = BodyOf<"members.adjustments.create">;
export type RefundInput = BodyOf<"orders.refunds.create">;
export type ActivityInput = BodyOf<"members.activities.create">;
export type QuoteInput = BodyOf<"quote.create">;
export type ConsumeCouponInput = BodyOf<"coupons.consume">;
export type FeedbackInput = BodyOf<"members.feedback.create">;
/** A redemption (captured at once, or a reserve with `capture: false`), its entries and the balance after it. */
export type CheckoutRedemption = ResponseOf<"members.redemptions.create", 201>;
export type RedemptionRecord = ResponseOf<"redemptions.get", 200>;
/** Capture or reverse part of a redemption (default: all that is left). */
export type RedemptionPointsInput = BodyOf<"redemptions.capture">;
/** Entries written and the balance after a points write (accrual, redemption, adjustment, refund, activity). */
export type LedgerWrite = ResponseOf<"members.accruals.create", 201>;
/**
 * An accrual or redemption accepted (202) while the API's database was out of reach: applied later,
 * in order; fetch its final result with `points.queuedWrite`, or retry with the same Idempotency-Key.
 */
export type QueuedWrite = ResponseOf<"members.queuedWrites.get", 200>;
/** Whether a write's answer is a stored write (202) rather than its applied result. */
export const isQueuedWrite = (answer: object): answer is QueuedWrite => "acceptedAt" in answer && "operation" in answer;
export type Balance = ResponseOf<"members.balance.get", 200>;
export type LedgerPage = ResponseOf<"members.ledger.list", 200>;
export type TierProgress = ResponseOf<"members.tier.get", 200>;
export type Quote = ResponseOf<"quote.create", 200>;
export type Coupon = ResponseOf<"coupons.get", 200>;
export type CouponCancellation = ResponseOf<"coupons.cancel", 200>;
export type RewardList = ResponseOf<"rewards.list", 200>;
export type MemberRewards = ResponseOf<"members.rewards.list", 200>;
export type RewardRedemption = ResponseOf<"members.rewards.redeem", 201>;
export type MemberReferrals = ResponseOf<"members.referrals.list", 200>;
export type FeedbackResult = ResponseOf<"members.feedback.create", 201>;
type ErrorCode = components["schemas"]["Error"]["error"]["code"];

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

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** A key for a write with no natural one, made once per call so that call's retries reuse it (Node 18 lacks a global crypto). */
const freshKey = (label: string) =>
  `${label}:${typeof crypto !== "undefined" && typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`}`;

type ApiError = { error?: { code?: ErrorCode; message?: string; requestId?: string; details?: unknown } };

function apiError(res: Response, body: unknown, what: string): LoyaltyApiError {
  const e = (body as ApiError | null)?.error;
  const retryAfter = Number(res.headers.get("retry-after"));
  return new LoyaltyApiError(
    res.status,
    e?.code ?? "internal_error",
    e?.message ?? `${what} answered ${res.status}`,
    e?.requestId ?? res.headers.get("x-request-id"),
    e?.details,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
}

export function createLoyaltyClient(options: LoyaltyClientOptions) {
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const retries = options.retries ?? 2;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5_000;

  /**
   * openapi-fetch's transport: one call with retries. Every attempt re-sends the same request —
   * the same headers, so a write's same Idempotency-Key.
   */
  async function send(request: Request): Promise<Response> {
    const what = `${request.method} ${new URL(request.url).pathname}`;
    const body = request.body === null ? undefined : await request.text();
    for (let attempt = 0; ; attempt++) {
      let error: LoyaltyApiError;
      try {
        const res = await doFetch(request.url, {
          method: request.method,
          headers: request.headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!RETRYABLE_STATUS.has(res.status)) return res;
        error = apiError(res, await res.json().catch(() => null), what);
      } catch (err) {
        error =
          (err as Error)?.name === "TimeoutError"
            ? new LoyaltyApiError(0, "timeout", `${what} did not answer within ${timeoutMs} ms`)
            : new LoyaltyApiError(0, "network_error", `${what} failed: ${String((err as Error)?.message ?? err)}`);
      }
      const waitMs = error.retryAfterSeconds != null ? error.retryAfterSeconds * 1000 : 200 * 2 ** attempt + Math.random() * 100;
      if (attempt >= retries || waitMs > maxRetryAfterMs) throw error;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** Every operation of the API, typed by the document (`api.GET("/v1/rewards")`, `api.POST(…)`…). */
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: { authorization: `Bearer ${options.apiKey}`, accept: "application/json" },
    fetch: send,
  });

  /** The data of a 2xx answer, or the API's error thrown as LoyaltyApiError. */
  async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; status: number }> {
    let result: Awaited<typeof call>;
    try {
      result = await call;
    } catch (err) {
      if (err instanceof LoyaltyApiError) throw err;
      // A 2xx whose body is not JSON.
      throw new LoyaltyApiError(0, "invalid_response", `Unexpected answer: ${String((err as Error)?.message ?? err)}`);
    }
    const { data, error, response } = result;
    if (error !== undefined || !response.ok) throw apiError(response, error, `${response.url}`);
    return { data: data as T, status: response.status };
  }
  const data = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>) => (await ok(call)).data;
  const member = (memberId: string) => ({ path: { memberId } });

  return {
    /** Any operation of the API, for what the methods below do not cover (admin configuration, analytics…). */
    api,

    members: {
      /** Idempotent on externalId: `created` is false when the member already existed. */
      async register(input: RegisterMemberInput): Promise<{ member: Member; created: boolean }> {
        const res = await ok(api.POST("/v1/members", { body: input }));
        return { member: res.data, created: res.status === 201 };
      },
      /**
       * The member as the storefront shows them. Served from the member's ledger object: their own
       * points changes show at once, the nightly jobs' within seconds; `fresh` reads the database now.
       */
      get: (memberId: string, opts: { fresh?: boolean } = {}) =>
        data(
          api.GET("/v1/members/{memberId}", {
            params: { ...member(memberId), header: opts.fresh ? { "cache-control": "no-cache" } : undefined },
          }),
        ),
      /** By the storefront's own customer id; 404 (LoyaltyApiError not_found) if unknown. */
      findByExternalId: (externalId: string) => data(api.GET("/v1/members", { params: { query: { externalId } } })),
      update: (memberId: string, input: UpdateMemberInput) =>
        data(api.PATCH("/v1/members/{memberId}", { params: member(memberId), body: input })),
      changeTags: (memberId: string, input: ChangeTagsInput) =>
        data(api.POST("/v1/members/{memberId}/tags", { params: member(memberId), body: input })),
      /** Admin key: GDPR erasure (the ledger stays balanced). */
      erase: (memberId: string) => data(api.POST("/v1/members/{memberId}/erase", { params: member(memberId) })),
      balance: (memberId: string) => data(api.GET("/v1/members/{memberId}/balance", { params: member(memberId) })),
      ledger: (memberId: string, page: { limit?: number; cursor?: string } = {}) =>
        data(api.GET("/v1/members/{memberId}/ledger", { params: { ...member(memberId), query: page } })),
      /** Current tier, benefits and what is missing for the next one. */
      tier: (memberId: string) => data(api.GET("/v1/members/{memberId}/tier", { params: member(memberId) })),
      rewards: (memberId: string) => data(api.GET("/v1/members/{memberId}/rewards", { params: member(memberId) })),
      referrals: (memberId: string, page: { limit?: number; cursor?: string } = {}) =>
        data(api.GET("/v1/members/{memberId}/referrals", { params: { ...member(memberId), query: page } })),
      /** Pass your own key to make your own retries safe too; by default each call gets a fresh one. */
      feedback: (memberId: string, input: FeedbackInput, opts: Partial<Write> = {}) =>
        data(
          api.POST("/v1/members/{memberId}/feedback", {
            params: { ...member(memberId), header: { "idempotency-key": opts.idempotencyKey ?? freshKey("feedback") } },
            body: input,
          }),
        ),
    },

    points: {
      /**
       * Earn for a purchase. The Idempotency-Key defaults to `accrual:<orderId>`, so resubmitting an order never earns twice.
       * While the API's database is out of reach the answer is a QueuedWrite (`isQueuedWrite`).
       */
      accrue: (memberId: string, input: AccrualInput, opts: Partial<Write> = {}) =>
        data(
          api.POST("/v1/members/{memberId}/accruals", {
            params: { ...member(memberId), header: { "idempotency-key": opts.idempotencyKey ?? `accrual:${input.orderId}` } },
            body: input,
          }),
        ),
      /**
       * Spend points at checkout, or reserve them (`capture: false`); 409 insufficient_points when the available balance is short.
       * While the API's database is out of reach an immediate redemption within the confirmed balance is a QueuedWrite (`isQueuedWrite`).
       */
      redeem: (memberId: string, input: RedemptionInput, opts: Write) =>
        data(
          api.POST("/v1/members/{memberId}/redemptions", {
            params: { ...member(memberId), header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** A write answered 202 while the database was out of reach: pending, applied (with its result) or failed. */
      queuedWrite: (memberId: string, writeId: string) =>
        data(api.GET("/v1/members/{memberId}/queued-writes/{writeId}", { params: { path: { memberId, writeId } } })),
      /** A redemption's state. */
      redemption: (redemptionId: string) => data(api.GET("/v1/redemptions/{redemptionId}", { params: { path: { redemptionId } } })),
      /** Capture a reserve, all or `points` of it (the rest goes back); 409 redemption_expired once it lapsed. */
      capture: (redemptionId: string, input: RedemptionPointsInput, opts: Write) =>
        data(
          api.POST("/v1/redemptions/{redemptionId}/capture", {
            params: { path: { redemptionId }, header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** Release a reserve: its points go back to their lots. */
      void: (redemptionId: string, opts: Write) =>
        data(
          api.POST("/v1/redemptions/{redemptionId}/void", {
            params: { path: { redemptionId }, header: { "idempotency-key": opts.idempotencyKey } },
          }),
        ),
      /** Undo a captured redemption (order cancelled), all or `points` of it: back to the original lots. */
      reverse: (redemptionId: string, input: RedemptionPointsInput, opts: Write) =>
        data(
          api.POST("/v1/redemptions/{redemptionId}/reverse", {
            params: { path: { redemptionId }, header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** Admin key: a ± correction. */
      adjust: (memberId: string, input: AdjustmentInput, opts: Write) =>
        data(
          api.POST("/v1/members/{memberId}/adjustments", {
            params: { ...member(memberId), header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** Reverse the points an order earned, in proportion to the amount refunded. */
      refund: (orderId: string, input: RefundInput, opts: Write) =>
        data(
          api.POST("/v1/orders/{orderId}/refunds", {
            params: { path: { orderId }, header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** A review, survey, check-in… runs the earning rules for that kind. */
      activity: (memberId: string, input: ActivityInput, opts: Write) =>
        data(
          api.POST("/v1/members/{memberId}/activities", {
            params: { ...member(memberId), header: { "idempotency-key": opts.idempotencyKey } },
            body: input,
          }),
        ),
      /** What a cart would earn, by the same rules, without writing. */
      quote: (input: QuoteInput) => data(api.POST("/v1/quote", { body: input })),
    },

    rewards: {
      list: (query: { active?: "true" | "false" } = {}) => data(api.GET("/v1/rewards", { params: { query } })),
      /** Spend points on a reward: issues a unique coupon code. */
      redeem: (memberId: string, rewardId: string, opts: Write) =>
        data(
          api.POST("/v1/members/{memberId}/rewards/{rewardId}/redeem", {
            params: { path: { memberId, rewardId }, header: { "idempotency-key": opts.idempotencyKey } },
          }),
        ),
    },

    coupons: {
      /** Whether a code can be used now (valid, or a reason why not); writes nothing. */
      validate: (code: string, query: { memberId?: string } = {}) =>
        data(api.GET("/v1/coupons/{code}", { params: { path: { code }, query } })),
      /** Use a code once; 409 coupon_not_valid if it was used, cancelled or expired. */
      consume: (code: string, input: ConsumeCouponInput = {}) =>
        data(api.POST("/v1/coupons/{code}/consume", { params: { path: { code } }, body: input })),
      /** Cancel an unused code and give its points back. */
      cancel: (code: string) => data(api.POST("/v1/coupons/{code}/cancel", { params: { path: { code } } })),
    },
  };
}

export type LoyaltyClient = ReturnType<typeof createLoyaltyClient>;
