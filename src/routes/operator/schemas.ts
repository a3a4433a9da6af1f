import { z } from "@hono/zod-openapi";
import { settingsFields } from "../../services/program/settings";

export const ProgramIdParam = z.object({
  programId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "programId", in: "path" }, example: "prg_01jd..." }),
});

export const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    currency: z.string(),
    timeZone: z.string(),
    status: z.enum(["active", "suspended"]),
    suspendedAt: z.string().nullable(),
    suspendedReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

export const CreateTenantBody = z
  .object({
    name: settingsFields.name,
    currency: settingsFields.currency.optional(),
    basePointsPerUnit: settingsFields.basePointsPerUnit.optional(),
    unitMinor: settingsFields.unitMinor.optional(),
    holdDays: settingsFields.holdDays.optional(),
    expiryDays: z
      .int()
      .min(1)
      .max(3650)
      .nullable()
      .optional()
      .openapi({ description: "Days points last; null: never expire. Default 365" }),
    pointCostPer1000: settingsFields.pointCostPer1000.optional(),
    allowNegativeBalance: settingsFields.allowNegativeBalance.optional(),
    backdateDays: settingsFields.backdateDays.optional(),
    timeZone: settingsFields.timeZone.optional(),
  })
  .strict()
  .openapi("CreateTenant", { example: { name: "Taipei Coffee Club", currency: "TWD", timeZone: "Asia/Taipei", pointCostPer1000: 10000 } });

export const CreatedTenantSchema = z
  .object({
    program: TenantSchema,
    adminKey: z
      .string()
      .openapi({ description: "The program's first admin key, shown once: store it now. It mints the other keys (POST /v1/keys)" }),
    partnerSigningSecret: z.string().openapi({ description: "The secret partners sign inbound events with (whsec_…), shown once" }),
  })
  .openapi("CreatedTenant");

export const SuspendBody = z
  .object({ reason: z.string().trim().min(1).max(500).openapi({ description: "Why (kept with the program and in its audit log)" }) })
  .strict()
  .openapi("SuspendTenant", { example: { reason: "invoice 2026-11 unpaid" } });

export const DeletionSchema = z
  .object({
    programId: z.string(),
    dryRun: z.boolean(),
    rows: z.record(z.string(), z.number().int()).openapi({ description: "The program's rows in every table (deleted, or that would be)" }),
    totalRows: z.number().int(),
    confirm: z.string().optional().openapi({ description: "Dry run: the value `confirm` must have to delete" }),
    deletedAt: z.string().nullable(),
  })
  .openapi("TenantDeletion");

const UsageCounters = { requests: z.number().int(), writes: z.number().int(), rowsWritten: z.number().int() };

export const UsageSchema = z
  .object({
    programId: z.string(),
    from: z.string(),
    to: z.string(),
    members: z.object({ total: z.number().int(), active: z.number().int() }).openapi({ description: "The program's members now" }),
    totals: z.object(UsageCounters),
    days: z.array(z.object({ day: z.string().openapi({ description: "UTC date" }), ...UsageCounters })),
  })
  .openapi("TenantUsage");
