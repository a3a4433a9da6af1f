import { and, eq, sql } from "drizzle-orm";
import { earningRules } from "../../../schema";
import type { Database } from "../../db/client";
import type { Env } from "../../env";
import { systemKeys } from "../../ledger/system-keys";
import { memberLedger, systemWriteRequest } from "../ledger/write";

/** Does the program have an active earning rule for this (non-purchase) trigger? One indexed read. */
export async function hasActiveRule(db: Database, programId: string, trigger: string): Promise<boolean> {
  const [row] = await db
    .select({ id: earningRules.id })
    .from(earningRules)
    .where(
      and(
        eq(earningRules.programId, programId),
        eq(earningRules.active, true),
        sql`json_extract(${earningRules.definition}, '$.trigger.type') = ${trigger}`,
      ),
    )
    .limit(1);
  return Boolean(row);
}

/**
 * Award a system bonus's rules through the member's ledger, exactly once per occurrence: the
 * signup bonus once per member, the birthday bonus once per year (the system key names the
 * occurrence, so a retry or a second run is a replay). Clients cannot report these kinds.
 */
export async function awardTrigger(
  env: Env,
  input: { programId: string; memberId: string } & ({ kind: "signup" } | { kind: "birthday" | "anniversary"; year: string }),
) {
  const body = { kind: input.kind };
  const req = await systemWriteRequest({
    programId: input.programId,
    memberId: input.memberId,
    idempotencyKey:
      input.kind === "signup"
        ? systemKeys.signup(input.memberId)
        : input.kind === "birthday"
          ? systemKeys.birthday(input.memberId, input.year)
          : systemKeys.anniversary(input.memberId, input.year),
    operation: "activity",
    body,
  });
  return memberLedger(env, input.programId, input.memberId).awardBonus(req, body);
}
