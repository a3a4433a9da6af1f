import { z } from "zod";
import type { MemberLedger } from "./durable/member-ledger";
import { keySpecProblem, secretsKeyRequired } from "./lib/secret-box";

/** Bindings and vars from wrangler.toml (and secrets in production). */
export type Env = {
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  MEMBER_LEDGER: DurableObjectNamespace<MemberLedger>;
  RATE_LIMITER?: DurableObjectNamespace;
  WEBHOOK_QUEUE?: Queue;
  /** The fanned-out nightly jobs' steps (src/jobs/): planned by the cron, worked by the `loyalty-jobs` consumer. */
  JOBS_QUEUE?: Queue;
  /** Workers Analytics Engine dataset for request, ledger-write and job data points (src/lib/telemetry.ts). */
  METRICS?: AnalyticsEngineDataset;
  /** The deployment operator's bearer token (a secret): GET /v1/health/deep. Unset: no operator. */
  OPERATOR_TOKEN?: string;
  /**
   * Secrets at rest (src/lib/secret-box.ts): the key that seals stored signing secrets,
   * "<key id>:<32 bytes, base64>", and during a rotation the previous one, which still opens.
   */
  SECRETS_KEK?: string;
  SECRETS_KEK_PREVIOUS?: string;
  /**
   * Staff sign-in through Cloudflare Access (src/lib/access-jwt.ts): the team domain
   * (https://<team>.cloudflareaccess.com) and the Access application's audience tag; who has which
   * role in which program (JSON: {"<email>": {"<programId>": "viewer"|"marketer"|"admin"}}); and,
   * for a local database only, the identity a request without Access is signed in as.
   */
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  STAFF_ROLES?: string;
  STAFF_DEV_IDENTITY?: string;
  /** Optional per-environment knobs. */
  CRON_BATCH_SIZE?: string;
  /** Members per shard of a fanned-out job (src/jobs/). */
  JOB_SHARD_SIZE?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  MEMBER_TOKEN_RATE_LIMIT_PER_MINUTE?: string;
  AUTH_FAILURES_PER_MINUTE?: string;
  MEMBER_VIEW_MAX_AGE_SECONDS?: string;
  LEDGER_WRITE_BUDGET_MS?: string;
  /**
   * Hosts the Worker entry serves itself rather than over the network (the tests' webhook
   * receiver, test/support/worker.ts): they pass the outbound URL policy and their requests go
   * to `fetch`. Only an entry's code sets it (the production entry never does); it holds a
   * function, so no var or secret can supply it.
   */
  outboundLoopback?: OutboundLoopback;
  /**
   * Called before each `loyalty-jobs` message is worked, with the message and its delivery
   * attempt: the tests' fault injection (a throw fails that delivery). Only an entry's code
   * sets it, like outboundLoopback.
   */
  jobFaults?: (message: { kind: string; job: string; runId: string; shard?: number }, attempt: number) => void;
  /**
   * Called after each step of a member merge (src/services/members/merge.ts): the tests' fault
   * injection (a throw stops the merge there, as a crash would). Only an entry's code sets it.
   */
  mergeFaults?: (step: "locked" | "debited" | "credited", mergeId: string) => void;
};

export type OutboundLoopback = { hosts: readonly string[]; fetch: (url: string, init: RequestInit) => Promise<Response> };

const staffRolesSchema = z.record(
  z.string().transform((e) => e.toLowerCase()),
  z.record(z.string().min(1), z.enum(["viewer", "marketer", "admin"])),
);

const secretsKey = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    const problem = value ? keySpecProblem(value) : null;
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const envSchema = z
  .object({
    LIBSQL_URL: z.string().url("LIBSQL_URL must be the libSQL/Turso URL (http(s):// or libsql://)"),
    LIBSQL_AUTH_TOKEN: z.string().optional(),
    OPERATOR_TOKEN: z.string().min(32, "OPERATOR_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)").optional(),
    CRON_BATCH_SIZE: z.coerce.number().int().positive().max(5000).default(500),
    // 5,000 members keep a shard's message to a few seconds of CPU (scripts/bench/README.md).
    JOB_SHARD_SIZE: z.coerce.number().int().min(1).max(100_000).default(5000),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
    /** Failed authentications one client address may make per minute before it is answered 429. */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().default(30),
    /** Requests one member token (or shop-signed assertion) may make per minute from a browser. */
    MEMBER_TOKEN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120),
    /** How stale a member lookup may be for changes made outside the member's ledger (crons). */
    MEMBER_VIEW_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    /**
     * How long a member's ledger write may wait for the database before an accrual or redemption is
     * stored in the member's Durable Object and answered 202 (README → Outages).
     */
    LEDGER_WRITE_BUDGET_MS: z.coerce.number().int().min(100).max(30_000).default(2500),
    SECRETS_KEK: secretsKey,
    SECRETS_KEK_PREVIOUS: secretsKey,
    ACCESS_TEAM_DOMAIN: z
      .string()
      .regex(/^https:\/\/[a-z0-9.-]+$/i, "ACCESS_TEAM_DOMAIN is the team's origin, e.g. https://<team>.cloudflareaccess.com")
      .optional(),
    ACCESS_AUD: z.string().min(1).optional(),
    STAFF_ROLES: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (!text) return {};
        try {
          return staffRolesSchema.parse(JSON.parse(text));
        } catch (err) {
          ctx.addIssue({
            code: "custom",
            message: `STAFF_ROLES must be {"<email>": {"<programId>": "viewer"|"marketer"|"admin"}}: ${String(err).slice(0, 200)}`,
          });
          return z.NEVER;
        }
      }),
    STAFF_DEV_IDENTITY: z.string().email().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.ACCESS_TEAM_DOMAIN && !env.ACCESS_AUD)
      ctx.addIssue({
        code: "custom",
        path: ["ACCESS_AUD"],
        message: "ACCESS_AUD (the Access application's audience tag) is required with ACCESS_TEAM_DOMAIN",
      });
    if (env.STAFF_DEV_IDENTITY && (secretsKeyRequired(env) || env.ACCESS_TEAM_DOMAIN))
      ctx.addIssue({
        code: "custom",
        path: ["STAFF_DEV_IDENTITY"],
        message: "STAFF_DEV_IDENTITY is for a local database without Access only",
      });
    if (!env.SECRETS_KEK && secretsKeyRequired(env))
      ctx.addIssue({
        code: "custom",
        path: ["SECRETS_KEK"],
        message: "SECRETS_KEK must be set (wrangler secret put SECRETS_KEK) when the database is not local",
      });
  });

export type Settings = z.infer<typeof envSchema>;

let cached: { source: Env; settings: Settings } | undefined;

/** Validated settings; a misconfigured deployment fails loudly on first use. */
export function settingsOf(env: Env): Settings {
  if (cached?.source === env) return cached.settings;
  const settings = envSchema.parse(env);
  cached = { source: env, settings };
  return settings;
}
