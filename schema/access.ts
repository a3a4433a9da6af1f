import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

/** API keys: only the SHA-256 of the secret is stored; `prefix` identifies it in lists. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: id(),
    programId: programId(),
    scope: text("scope", { enum: ["admin", "storefront", "partner"] }).notNull(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at"),
    revokedAt: timestamp("revoked_at"),
    lastUsedAt: timestamp("last_used_at"),
    /** Token-bucket size and refill per minute for this key; null = the deployment default (RATE_LIMIT_PER_MINUTE). */
    rateLimitPerMinute: integer("rate_limit_per_minute"),
    /**
     * Partner keys: the partner they act for (keys of one partner share it, so a rotated key keeps
     * its orders and members); null = the key is its own partner (its id).
     */
    partner: text("partner"),
    /**
     * Partner keys: which members and orders they read. `touched` (default): only the members
     * and orders this partner has touched; `program`: all of the program's (a coalition partner).
     */
    memberAccess: text("member_access", { enum: ["touched", "program"] })
      .notNull()
      .default("touched"),
    /**
     * The API version (src/lib/api-version.ts) requests with this key get unless they send
     * Loyalty-Version: the latest when the key was created. Keys from before versioning: the first.
     */
    apiVersion: text("api_version").notNull().default("2026-06-01"),
  },
  (t) => [
    // Authentication is one lookup by hash.
    uniqueIndex("api_keys_hash_uq").on(t.keyHash),
    index("api_keys_program_idx").on(t.programId),
  ],
);

/** Admin writes: who did what, before and after, written in the same batch as the change. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: id(),
    programId: programId(),
    keyId: text("key_id"),
    /** The staff member (their Cloudflare Access email) who made the change; null for API keys and the system. */
    actor: text("actor"),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id"),
    before: json<unknown>("before"),
    after: json<unknown>("after"),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [index("audit_program_created_idx").on(t.programId, t.createdAt)],
);
