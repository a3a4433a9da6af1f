import { z } from "@hono/zod-openapi";
import { type ErrorCode, errorCodes } from "./errors";

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

const statusText: Record<number, string> = {
  400: "Invalid request (code invalid_request, with the failing fields in details)",
  401: "Missing, invalid, revoked or expired API key",
  403: "The key's scope does not allow this route",
  404: "Not found in this key's program",
  409: "Conflict (idempotency_conflict, insufficient_points, …)",
  413: "Body too large",
  429: "Rate limited; see Retry-After",
  503: "The database is out of reach (service_unavailable, ledger_unavailable); retry later with the same Idempotency-Key",
};

/** Standard error responses for a route, documented with their codes. */
export function errorResponses(...statuses: number[]) {
  const all = [...new Set([400, 401, 403, 429, ...statuses])];
  return Object.fromEntries(
    all.map((s) => [s, { description: statusText[s] ?? "Error", content: { "application/json": { schema: ErrorSchema } } }]),
  );
}

export const jsonBody = <T extends z.ZodType>(schema: T, example?: unknown) => ({
  required: true,
  content: { "application/json": { schema, ...(example === undefined ? {} : { example }) } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const IdempotencyHeaders = z.object({
  "idempotency-key": z.string({ error: "Idempotency-Key header is required on writes" }).min(1).max(200).openapi({
    description: "Unique per logical write; a retry with the same key returns the original result",
    example: "order-1001-accrual",
  }),
});

export const bearerSecurity = [{ bearer: [] as string[] }];

export const MemberIdParam = z.object({
  memberId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "memberId", in: "path" }, example: "mem_01jd..." }),
});

export const PaginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export const Iso = () => z.iso.datetime({ offset: true }).openapi({ example: "2026-11-25T10:00:00Z" });
