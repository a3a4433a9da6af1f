import { messages } from "../../../schema";
import type { Consent } from "../../../schema/members";
import type { Database } from "../../db/client";
import type { MessageAction } from "../../domain/campaigns/definition";
import { renderTemplate, type TemplateFields } from "../../domain/campaigns/template";
import { newId } from "../../lib/ids";

/** The member facts a template may use. */
export type MemberForMessage = {
  id: string;
  name: string | null;
  externalId: string;
  email: string | null;
  pointsBalance: number;
  pointsPending: number;
  lifetimeEarned: number;
  stage: string;
  consent: Consent;
  tierName: string | null;
};

/** Placeholder values: the member's profile and balance, the campaign, and the trigger's own facts. */
export function templateFields(member: MemberForMessage, campaignName: string, context: Record<string, unknown> = {}): TemplateFields {
  const fields: TemplateFields = {
    name: member.name,
    firstName: member.name?.split(/\s+/)[0] ?? null,
    externalId: member.externalId,
    email: member.email,
    balance: member.pointsBalance - member.pointsPending,
    pending: member.pointsPending,
    lifetimeEarned: member.lifetimeEarned,
    tier: member.tierName,
    stage: member.stage,
    campaign: campaignName,
  };
  for (const [k, v] of Object.entries(context)) {
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) fields[k] = v as TemplateFields[string];
  }
  return fields;
}

/**
 * One `messages` row per send_message action. Without consent for the channel the row is
 * still written, as `skipped_no_consent`, so the decision is visible; the delivery cron only
 * picks up `pending` rows.
 */
export function messageInserts(
  db: Database,
  input: {
    programId: string;
    campaignId: string;
    member: MemberForMessage;
    actions: Array<Pick<MessageAction, "channel" | "template">>;
    fields: TemplateFields;
    now: string;
    priority?: number;
    journey?: { runId: string; stepId: string };
  },
) {
  return input.actions.map((a) => {
    const consented = input.member.consent?.[a.channel] === true;
    const row = {
      id: newId("msg"),
      programId: input.programId,
      campaignId: input.campaignId,
      memberId: input.member.id,
      channel: a.channel,
      body: renderTemplate(a.template, input.fields, a.channel),
      status: consented ? ("pending" as const) : ("skipped_no_consent" as const),
      attempts: 0,
      nextAttemptAt: consented ? input.now : null,
      lastError: consented ? null : `member has not consented to ${a.channel}`,
      createdAt: input.now,
      deliveredAt: null,
      journeyRunId: input.journey?.runId ?? null,
      stepId: input.journey?.stepId ?? null,
      priority: input.priority ?? 0,
    };
    return { row, statement: db.insert(messages).values(row) };
  });
}
