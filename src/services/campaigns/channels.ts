import { eq, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import { CHANNELS, type Channel } from "../../domain/campaigns/definition";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { assertTargetUrl } from "../../lib/outbound-fetch";
import { openSecret, sealSecret, secretContext } from "../../lib/secret-box";
import { newSigningSecret } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";

/** A channel endpoint: the program's HTTP webhook for that channel and the secret it is signed with (sealed, src/lib/secret-box.ts). */
export type ChannelEndpoint = { url: string; secret: string; updatedAt: string };
export type ChannelSettings = Partial<Record<Channel, ChannelEndpoint>>;

export function channelsOf(settings: Record<string, unknown> | null | undefined): ChannelSettings {
  const raw = (settings?.channels ?? {}) as Record<string, unknown>;
  const out: ChannelSettings = {};
  for (const ch of CHANNELS) {
    const e = raw[ch] as Partial<ChannelEndpoint> | undefined;
    if (e && typeof e.url === "string" && typeof e.secret === "string")
      out[ch] = { url: e.url, secret: e.secret, updatedAt: String(e.updatedAt ?? "") };
  }
  return out;
}

const secretHint = (secret: string) => `${secret.slice(0, 10)}…`;
/** The endpoint as the API shows it, from its secret in the clear (shown in full only when just created). */
const view = (channel: Channel, e: ChannelEndpoint, secret: string, revealSecret: boolean) => ({
  channel,
  url: e.url,
  ...(revealSecret ? { secret } : {}),
  secretHint: secretHint(secret),
  updatedAt: e.updatedAt,
});
const openChannelSecret = (ctx: ServiceContext, programId: string, channel: Channel, e: ChannelEndpoint) =>
  openSecret(ctx.env, e.secret, secretContext.channel(programId, channel));

export async function loadProgramSettings(ctx: ServiceContext, programId: string) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, programId)).limit(1);
  if (!row) throw notFound("Program");
  return row.settings ?? {};
}

export async function listChannels({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const channels = channelsOf(await loadProgramSettings(ctx, input.programId));
  const configured = CHANNELS.filter((ch) => channels[ch]);
  return Promise.all(
    configured.map(async (ch) => view(ch, channels[ch]!, await openChannelSecret(ctx, input.programId, ch, channels[ch]!), false)),
  );
}

/**
 * Set a channel's endpoint. The signing secret is created with the first PUT (and on
 * rotateSecret) and returned only then. Written with json_set on the one key so concurrent
 * edits of other settings (lifecycle thresholds, …) are not overwritten.
 */
export async function putChannel({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; channel: Channel; url: string; rotateSecret?: boolean };
}) {
  assertTargetUrl(ctx.env, input.url);
  const before = channelsOf(await loadProgramSettings(ctx, input.programId))[input.channel];
  const fresh = !before || input.rotateSecret === true;
  const secret = fresh ? newSigningSecret() : await openChannelSecret(ctx, input.programId, input.channel, before);
  const sealed = fresh ? await sealSecret(ctx.env, secret, secretContext.channel(input.programId, input.channel)) : before.secret;
  const endpoint: ChannelEndpoint = { url: input.url, secret: sealed, updatedAt: nowIso() };
  await ctx.db.batch([
    ctx.db.run(
      sql`UPDATE programs SET settings = json_set(COALESCE(settings, '{}'), ${`$.channels`}, json_set(COALESCE(json_extract(settings, '$.channels'), '{}'), ${`$.${input.channel}`}, json(${JSON.stringify(endpoint)}))), updated_at = ${endpoint.updatedAt} WHERE id = ${input.programId}`,
    ),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: before ? "channel.updated" : "channel.created",
      entityType: "channel",
      entityId: input.channel,
      before: before ? { url: before.url } : null,
      after: { url: endpoint.url, secretRotated: fresh },
    }),
  ]);
  return { created: !before, channel: view(input.channel, endpoint, secret, fresh) };
}

export async function deleteChannel({ ctx, input }: { ctx: ServiceContext; input: { programId: string; channel: Channel } }) {
  const before = channelsOf(await loadProgramSettings(ctx, input.programId))[input.channel];
  if (!before) throw new AppError("not_found", `No endpoint is configured for channel ${input.channel}`);
  await ctx.db.batch([
    ctx.db.run(
      sql`UPDATE programs SET settings = json_remove(settings, ${`$.channels.${input.channel}`}), updated_at = ${nowIso()} WHERE id = ${input.programId}`,
    ),
    auditStatement(ctx, { action: "channel.deleted", entityType: "channel", entityId: input.channel, before: { url: before.url } }),
    configVersionBump(ctx.db, input.programId),
  ]);
}
