import { z } from "@hono/zod-openapi";
import { API_VERSIONS, type ApiVersion } from "../../lib/api-version";
import { Iso } from "../../lib/openapi";

export const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(["admin", "storefront", "partner"]),
    prefix: z.string().openapi({ description: "The first characters of the secret, to recognise it; the secret itself is never stored" }),
    rateLimitPerMinute: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "This key's limit; null = the deployment default (RATE_LIMIT_PER_MINUTE)" }),
    partner: z.string().nullable().openapi({ description: "Partner keys: the partner they act for (null: the key's own id)" }),
    memberAccess: z.enum(["touched", "program"]).openapi({
      description: "Partner keys: `touched` reads only the members and orders this partner touched; `program` all (coalitions)",
    }),
    apiVersion: z.enum(API_VERSIONS as [ApiVersion, ...ApiVersion[]]).openapi({
      description: "The API version requests with this key get unless they send Loyalty-Version",
    }),
    status: z.enum(["active", "expired", "revoked"]),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedKeySchema = KeySchema.extend({
  secret: z.string().openapi({ description: "Shown once: store it now. Send as Authorization: Bearer <secret>." }),
}).openapi("CreatedApiKey");

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scope: z.enum(["admin", "storefront", "partner"]),
    expiresAt: Iso().optional(),
    rateLimitPerMinute: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .openapi({ description: "Token-bucket size and refill per minute; default RATE_LIMIT_PER_MINUTE (600)" }),
    partner: z.string().trim().min(1).max(64).optional().openapi({
      description:
        "Partner keys: the partner they act for; give a new key the old one's to keep its orders and members. Default: the key's id",
    }),
    memberAccess: z.enum(["touched", "program"]).optional().openapi({
      description:
        "Partner keys: `touched` (default) reads only the members and orders this partner touched; `program` reads all (a coalition partner)",
    }),
    apiVersion: z
      .enum(API_VERSIONS as [ApiVersion, ...ApiVersion[]])
      .optional()
      .openapi({ description: "The API version requests with this key get unless they send Loyalty-Version; default the latest" }),
  })
  .strict()
  .openapi("CreateApiKey", { example: { name: "POS terminals", scope: "storefront", rateLimitPerMinute: 1200 } });

export const KeyIdParam = z.object({
  keyId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "keyId", in: "path" }, example: "key_01jd..." }),
});
