import { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import { isValidTimeZone } from "../../domain/local-time";
import { EXPIRY_PERIODS, expiryPolicyOf, storedExpiry } from "../../domain/points/expiry";
import type { ServiceContext } from "../../lib/context";
import { AppError, errorChainText, notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "./config-version";

type ProgramRow = typeof programs.$inferSelect;

const ExpiryPolicySchema = z
  .discriminatedUnion("kind", [
    z.object({ kind: z.literal("never") }).strict(),
    z
      .object({
        kind: z.literal("afterEarning"),
        days: z.int().min(1).max(36_500).openapi({ description: "Points expire this many days after they become available" }),
      })
      .strict(),
    z
      .object({
        kind: z.literal("endOfPeriod"),
        period: z.enum(EXPIRY_PERIODS).openapi({ description: "The calendar period, in the program's time zone" }),
        periodsAfter: z.int().min(0).max(120).openapi({
          description:
            "Points expire when this many periods after the one they become available in have ended (0: at the end of that same period)",
        }),
      })
      .strict()
      .openapi({ example: { kind: "endOfPeriod", period: "year", periodsAfter: 1 } }),
    z
      .object({
        kind: z.literal("inactivity"),
        days: z.int().min(1).max(36_500).openapi({
          description: "All of a member's points expire together this many days after their last purchase; every purchase moves the date",
        }),
      })
      .strict(),
  ])
  .openapi("ExpiryPolicy", {
    description:
      "When earned points expire: `afterEarning` days after they become available; `endOfPeriod` at the end of the Nth local month, quarter or year after it (the program's time zone, stored as a UTC instant); `inactivity` N days after the member's last purchase; or `never`. A change applies to points earned after it: existing lots keep their expiry (and points earned under `inactivity` keep expiring with their member's date, which purchases move only while the policy is `inactivity`).",
    example: { kind: "afterEarning", days: 365 },
  });

const TimeZoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, { message: "Unknown time zone: use an IANA name such as Europe/Paris" })
  .openapi({ description: "IANA time zone of the program's calendar (days, weeks, months, midnight)", example: "Asia/Taipei" });

const isLocale = (tag: string) => {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
};

/** `scheme://host[:port]` exactly as a browser sends it in `Origin`. */
const OriginSchema = z
  .string()
  .max(200)
  .refine(
    (o) => {
      try {
        const u = new URL(o);
        return (u.protocol === "https:" || u.protocol === "http:") && u.origin === o;
      } catch {
        return false;
      }
    },
    { message: "An origin is scheme://host[:port] with no path, e.g. https://shop.example.com" },
  );

/** A program's settings as the examples in the document show them. */
export const settingsExample = {
  name: "Taipei Coffee Club",
  currency: "TWD",
  basePointsPerUnit: 1,
  unitMinor: 100,
  holdDays: 0,
  expiryPolicy: { kind: "afterEarning", days: 365 },
  pointCostPer1000: 10_000,
  allowNegativeBalance: false,
  backdateDays: 30,
  timeZone: "Asia/Taipei",
  allowedOrigins: ["https://shop.example.com"],
  defaultLocale: "zh-TW",
};

export const settingsFields = {
  name: z.string().trim().min(1).max(200),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "ISO 4217 code in capitals, e.g. EUR")
    .openapi({ description: "ISO 4217. Fixed once the program has members (409 currency_locked)" }),
  basePointsPerUnit: z
    .int()
    .min(0)
    .max(1_000_000)
    .openapi({ description: "Base earn: this many points per `unitMinor` minor units spent" }),
  unitMinor: z.int().min(1).max(1_000_000_000).openapi({ description: "The spend unit of the base earn rate, in minor units" }),
  holdDays: z.int().min(0).max(365).openapi({ description: "Days earned points stay pending before they can be spent" }),
  expiryPolicy: ExpiryPolicySchema,
  pointCostPer1000: z
    .int()
    .min(0)
    .max(1_000_000_000)
    .openapi({ description: "What 1000 points cost the program (redemption value), in minor units" }),
  allowNegativeBalance: z
    .boolean()
    .openapi({ description: "Whether refunds and adjustments may take a balance below zero (points debt) instead of stopping at zero" }),
  backdateDays: z
    .int()
    .min(0)
    .max(3650)
    .openapi({ description: "How far back a storefront or partner may date a purchase (`occurredAt`)" }),
  timeZone: TimeZoneSchema,
  allowedOrigins: z.array(OriginSchema).max(50).openapi({
    description:
      "Browser origins (scheme://host[:port]) the program's shop runs on, e.g. https://shop.example.com. Only these origins may read the API's answers from a browser (CORS, e.g. the widget with a member token); changes reach every edge location within 30 seconds",
  }),
  defaultLocale: z
    .string()
    .max(35)
    .refine(isLocale, { message: "A BCP 47 language tag, e.g. zh-TW" })
    .openapi({ description: "Locale of member-facing text (BCP 47), e.g. the money in tier progress messages" }),
};

export const ProgramSettingsSchema = z
  .object({
    id: z.string(),
    ...settingsFields,
    configVersion: z
      .int()
      .openapi({ description: "Bumped by every configuration change (settings, rules, tiers, rewards, …); key caches on it" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Program", {
    example: {
      id: "prg_01jd...",
      ...settingsExample,
      configVersion: 7,
      createdAt: "2026-11-01T00:00:00.000Z",
      updatedAt: "2026-11-25T10:00:00.000Z",
    },
  });

export const ProgramSettingsPatchSchema = z
  .object(settingsFields)
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "Nothing to change" })
  .openapi("ProgramSettingsPatch", { example: { timeZone: "Asia/Taipei", defaultLocale: "zh-TW", holdDays: 14 } });

export type ProgramSettings = z.infer<typeof ProgramSettingsSchema>;
type ProgramSettingsPatch = z.infer<typeof ProgramSettingsPatchSchema>;

function settingsView(row: ProgramRow): ProgramSettings {
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    basePointsPerUnit: row.basePointsPerUnit,
    unitMinor: row.unitMinor,
    holdDays: row.holdDays,
    expiryPolicy: expiryPolicyOf(row),
    pointCostPer1000: row.pointCostPer1000,
    allowNegativeBalance: row.allowNegativeBalance,
    backdateDays: row.backdateDays,
    timeZone: row.timeZone,
    allowedOrigins: row.allowedOrigins,
    defaultLocale: row.defaultLocale,
    configVersion: row.configVersion,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const settingColumns = [
  "name",
  "currency",
  "basePointsPerUnit",
  "unitMinor",
  "holdDays",
  "expiryDays",
  "expiryPolicy",
  "pointCostPer1000",
  "allowNegativeBalance",
  "backdateDays",
  "timeZone",
  "allowedOrigins",
  "defaultLocale",
] as const satisfies readonly (keyof ProgramRow)[];

async function loadProgram(ctx: ServiceContext, programId: string) {
  const [row] = await ctx.db.select().from(programs).where(eq(programs.id, programId)).limit(1);
  if (!row) throw notFound("Program");
  return row;
}

export async function getProgramSettings({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  return settingsView(await loadProgram(ctx, input.programId));
}

const currencyLocked = (currency: string) =>
  new AppError(
    "currency_locked",
    `The program's currency is ${currency} and it has members: balances, orders and budgets are in ${currency}, so it cannot change`,
  );

/** Only the fields that change, as they are shown. */
function changedFields(before: ProgramSettings, after: ProgramSettings, patch: ProgramSettingsPatch) {
  const keys = (Object.keys(patch) as (keyof ProgramSettingsPatch)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return {
    before: Object.fromEntries(keys.map((k) => [k, before[k]])),
    after: Object.fromEntries(keys.map((k) => [k, after[k]])),
  };
}

/**
 * Change the program's settings. Audited with the fields before and after; bumps the
 * configuration version. Settings are read by every later write, so past ledger entries,
 * lots and snapshots keep what they were made with. The currency changes only while the
 * program has no member: checked inside the UPDATE, so a registration racing the change
 * either lands first (409) or sees the new currency.
 */
export async function updateProgramSettings({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; patch: ProgramSettingsPatch };
}) {
  const row = await loadProgram(ctx, input.programId);
  const before = settingsView(row);
  const { patch } = input;
  const now = nowIso();
  const next: ProgramRow = {
    ...row,
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.currency !== undefined && { currency: patch.currency }),
    ...(patch.basePointsPerUnit !== undefined && { basePointsPerUnit: patch.basePointsPerUnit }),
    ...(patch.unitMinor !== undefined && { unitMinor: patch.unitMinor }),
    ...(patch.holdDays !== undefined && { holdDays: patch.holdDays }),
    ...(patch.expiryPolicy !== undefined && storedExpiry(patch.expiryPolicy)),
    ...(patch.pointCostPer1000 !== undefined && { pointCostPer1000: patch.pointCostPer1000 }),
    ...(patch.allowNegativeBalance !== undefined && { allowNegativeBalance: patch.allowNegativeBalance }),
    ...(patch.backdateDays !== undefined && { backdateDays: patch.backdateDays }),
    ...(patch.timeZone !== undefined && { timeZone: patch.timeZone }),
    ...(patch.allowedOrigins !== undefined && { allowedOrigins: [...new Set(patch.allowedOrigins)] }),
    ...(patch.defaultLocale !== undefined && { defaultLocale: Intl.getCanonicalLocales(patch.defaultLocale)[0] }),
    configVersion: row.configVersion + 1,
    updatedAt: now,
  };
  const after = settingsView(next);
  const diff = changedFields(before, after, patch);
  if (Object.keys(diff.after).length === 0) return before;
  const currencyChanges = next.currency !== row.currency;
  const columnsChanged = settingColumns.filter((c) => c !== "currency" && JSON.stringify(next[c]) !== JSON.stringify(row[c]));
  if (currencyChanges) {
    const [{ n }] = await ctx.db.all<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM (SELECT 1 FROM members WHERE program_id = ${row.id} LIMIT 1)`,
    );
    if (Number(n) > 0) throw currencyLocked(row.currency);
  }
  try {
    await ctx.db.batch([
      ctx.db
        .update(programs)
        .set({
          // Only the fields that change, so a concurrent change of another field survives.
          ...Object.fromEntries(columnsChanged.map((c) => [c, next[c]])),
          // NULL (failing NOT NULL, and with it the batch) when a member registered since the check.
          ...(currencyChanges && {
            currency: sql`CASE WHEN NOT EXISTS (SELECT 1 FROM members WHERE program_id = ${row.id}) THEN ${next.currency} END`,
          }),
          updatedAt: now,
        })
        .where(eq(programs.id, row.id)),
      configVersionBump(ctx.db, row.id),
      auditStatement(ctx, { action: "program.updated", entityType: "program", entityId: row.id, ...diff }),
    ]);
  } catch (err) {
    if (/NOT NULL constraint failed: programs\.currency/i.test(errorChainText(err))) throw currencyLocked(row.currency);
    throw err;
  }
  return getProgramSettings({ ctx, input: { programId: row.id } });
}
