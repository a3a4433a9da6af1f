import { eq } from "drizzle-orm";
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/min";
import { programs } from "../../../schema";
import type { ServiceContext } from "../../lib/context";

/**
 * Phone numbers as the POS looks them up: E.164 (`+886912345678`), parsed with libphonenumber-js
 * (its small metadata set). A number written without a country code is read in the program's
 * country, the region of its default locale (`zh-TW` → TW); one that does not parse as a possible
 * number has no E.164 form and is never found by phone.
 */
function toE164(raw: string | null | undefined, region: string | null): string | null {
  if (!raw) return null;
  const parsed = parsePhoneNumberFromString(raw, region ? { defaultCountry: region as CountryCode } : undefined);
  return parsed?.isPossible() ? parsed.number : null;
}

const REGION_CACHE_MS = 60_000;
const regions = new Map<string, { at: number; region: string | null }>();

/** The program's country for national-format numbers (per isolate, a minute at most stale); null when its locale names none. */
async function phoneRegionOf(ctx: ServiceContext, programId: string): Promise<string | null> {
  const cached = regions.get(programId);
  if (cached && Date.now() - cached.at < REGION_CACHE_MS) return cached.region;
  const [row] = await ctx.db.select({ locale: programs.defaultLocale }).from(programs).where(eq(programs.id, programId)).limit(1);
  const region = regionOfLocale(row?.locale ?? null);
  regions.delete(programId);
  regions.set(programId, { at: Date.now(), region });
  while (regions.size > 5_000) regions.delete(regions.keys().next().value as string);
  return region;
}

function regionOfLocale(locale: string | null): string | null {
  if (!locale) return null;
  try {
    return new Intl.Locale(locale).maximize().region ?? null;
  } catch {
    return null;
  }
}

/** The E.164 form of `raw` for a program: its country is read only for a number without a `+` country code. */
export async function phoneE164For(ctx: ServiceContext, programId: string, raw: string | null | undefined): Promise<string | null> {
  if (!raw) return null;
  if (raw.trim().startsWith("+")) return toE164(raw, null);
  return toE164(raw, await phoneRegionOf(ctx, programId));
}
