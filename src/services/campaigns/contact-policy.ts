import { eq, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import { type ContactPolicy, contactPolicySchema, NO_POLICY } from "../../domain/campaigns/contact-policy";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";

/** The policy stored in the program's settings (none when absent or no longer valid). */
export function contactPolicyOf(settings: Record<string, unknown> | null | undefined): ContactPolicy {
  const parsed = contactPolicySchema.safeParse(settings?.contactPolicy ?? {});
  return parsed.success ? parsed.data : NO_POLICY;
}

export async function getContactPolicy({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  return contactPolicyOf(row.settings);
}

/** Replace the policy: json_set on its one key, so concurrent edits of other settings are kept; audited, config version bumped. */
export async function putContactPolicy({ ctx, input }: { ctx: ServiceContext; input: { programId: string; policy: ContactPolicy } }) {
  const before = await getContactPolicy({ ctx, input });
  const policy = contactPolicySchema.parse(input.policy);
  await ctx.db.batch([
    ctx.db.run(
      sql`UPDATE programs SET settings = json_set(COALESCE(settings, '{}'), '$.contactPolicy', json(${JSON.stringify(policy)})), updated_at = ${nowIso()}
        WHERE id = ${input.programId}`,
    ),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, { action: "contact_policy.updated", entityType: "program", entityId: input.programId, before, after: policy }),
  ]);
  return policy;
}
