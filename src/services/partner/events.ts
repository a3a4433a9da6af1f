import { and, eq, inArray, sql } from "drizzle-orm";
import { members, orders, partnerEvents, programs } from "../../../schema";
import { isDatabaseUnavailable } from "../../db/availability";
import type { LedgerResult } from "../../ledger/result";
import { systemKeys } from "../../ledger/system-keys";
import { mapLimit } from "../../lib/concurrency";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { openSecret, sealSecret, secretContext } from "../../lib/secret-box";
import { newSigningSecret } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { PartnerEvent } from "../../routes/partner/schemas";
import { auditStatement } from "../access/audit";
import { memberLedger, systemWriteRequest } from "../ledger/write";
import {
  changeTags,
  eraseMember,
  findMemberByExternalId,
  getMember,
  registerMember,
  requireMemberRow,
  updateMember,
} from "../members/members";
import { assertMayRefund, assertMemberVisible, linkPartnerMember, writeSourceOf } from "./scoping";

/**
 * Inbound partner events (sales, refunds, activities, member upserts), each idempotent by
 * the partner's own eventId: a processed event's result is kept in `partner_events` and a
 * resend answers with it. Points go through the member's Durable Object with the
 * idempotency key `partner:<eventId>`, so even a resend racing the first attempt cannot
 * earn twice. Only applied results are kept: a rejected event (validation, unknown order…)
 * changed nothing, so the partner can fix it and resend under the same eventId.
 */

/** After a rotation the previous partner signing secret is still accepted for this long. */
const PARTNER_SECRET_OVERLAP_MS = 24 * 3600_000;
const LANE_CONCURRENCY = 8;

export type EventOutcome = {
  index: number;
  eventId: string | null;
  type: string | null;
  status: number;
  replayed: boolean;
  result?: unknown;
  error?: { code: string; message: string; details?: unknown };
  /** Accepted while the database was out of reach: `result` is the stored write, applied later. */
  queued?: true;
};

/** The partner settings each program had when last read, per isolate: what verifies a partner while the database is out of reach. */
const lastSettings = new Map<string, { settings: unknown; at: number }>();
const STALE_SETTINGS_MS = 24 * 3600_000;
function remember(programId: string, settings: unknown) {
  lastSettings.delete(programId);
  lastSettings.set(programId, { settings, at: Date.now() });
  while (lastSettings.size > 5_000) lastSettings.delete(lastSettings.keys().next().value as string);
}

type PartnerSettings = { partnerSigningSecret?: string; partnerSigningSecretPrevious?: string; partnerSigningSecretPreviousUntil?: string };

/** The secrets a partner request may be signed with now (current, and previous during the overlap). */
export async function partnerSigningSecrets(ctx: ServiceContext, programId: string, now = new Date()): Promise<string[]> {
  let row: { settings: unknown } | undefined;
  try {
    [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, programId)).limit(1);
  } catch (err) {
    // While the database is out of reach the settings this isolate read last still verify a sale,
    // which then waits in the member's queue (README → Outages).
    const last = lastSettings.get(programId);
    if (!last || now.getTime() - last.at > STALE_SETTINGS_MS || !isDatabaseUnavailable(err)) throw err;
    row = last;
  }
  if (row) remember(programId, row.settings);
  const s = (row?.settings ?? {}) as PartnerSettings;
  const stored: string[] = [];
  if (typeof s.partnerSigningSecret === "string") stored.push(s.partnerSigningSecret);
  if (
    typeof s.partnerSigningSecretPrevious === "string" &&
    s.partnerSigningSecretPreviousUntil &&
    s.partnerSigningSecretPreviousUntil > nowIso(now)
  )
    stored.push(s.partnerSigningSecretPrevious);
  // Stored sealed (src/lib/secret-box.ts); the previous one keeps the current one's seal when rotated.
  return Promise.all(stored.map((v) => openSecret(ctx.env, v, secretContext.partner(programId))));
}

/** New partner signing secret (returned once); the previous one stays valid for 24 h. */
export async function rotatePartnerSigningSecret({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const [row] = await ctx.db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  if (!row) throw notFound("Program");
  const current = (row.settings as PartnerSettings).partnerSigningSecret ?? null;
  const secret = newSigningSecret();
  const sealed = await sealSecret(ctx.env, secret, secretContext.partner(input.programId));
  const now = new Date();
  const previousUntil = current ? new Date(now.getTime() + PARTNER_SECRET_OVERLAP_MS).toISOString() : null;
  await ctx.db.batch([
    // json_set touches only these keys, so a concurrent change to other settings is not lost.
    ctx.db
      .update(programs)
      .set({
        settings: sql`json_set(${programs.settings}, '$.partnerSigningSecret', ${sealed}, '$.partnerSigningSecretPrevious', ${current}, '$.partnerSigningSecretPreviousUntil', ${previousUntil})`,
        updatedAt: nowIso(now),
      })
      .where(eq(programs.id, input.programId)),
    auditStatement(ctx, {
      action: "program.partner_secret_rotated",
      entityType: "program",
      entityId: input.programId,
      after: { previousSecretValidUntil: previousUntil },
    }),
  ]);
  return { secret, previousSecretValidUntil: previousUntil };
}

type Parsed = { index: number; event: PartnerEvent } | { index: number; outcome: EventOutcome };

function validate(raw: unknown, index: number): Parsed {
  const eventId = typeof (raw as { eventId?: unknown })?.eventId === "string" ? ((raw as { eventId: string }).eventId as string) : null;
  const type = typeof (raw as { type?: unknown })?.type === "string" ? ((raw as { type: string }).type as string) : null;
  const result = PartnerEvent.safeParse(raw);
  if (result.success) return { index, event: result.data };
  const fields = result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code }));
  return {
    index,
    outcome: {
      index,
      eventId,
      type,
      status: 400,
      replayed: false,
      error: {
        code: "invalid_request",
        message: `Invalid event: ${fields.map((f) => `${f.path || "(root)"}: ${f.message}`).join("; ")}`,
        details: { fields },
      },
    },
  };
}

const failed = (index: number, e: PartnerEvent, err: AppError): EventOutcome => ({
  index,
  eventId: e.eventId,
  type: e.type,
  status: err.status,
  replayed: false,
  error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) },
});

function fromLedger(index: number, e: PartnerEvent, r: LedgerResult): EventOutcome {
  if (!r.ok) return failed(index, e, new AppError(r.code, r.message, r.details));
  return {
    index,
    eventId: e.eventId,
    type: e.type,
    status: r.status,
    replayed: r.replayed,
    result: r.body,
    ...(r.status === 202 ? { queued: true } : {}),
  };
}

/** The member an event names: by id (must exist in the program) or by the partner's externalId (registered if new). */
async function resolveMember(ctx: ServiceContext, programId: string, e: { memberId?: string; externalId?: string }, offline = false) {
  if (e.memberId && offline) {
    // A sale may wait in the member's queue while the database is away: the member is checked when it is applied.
    return requireMemberRow(ctx, programId, e.memberId).then(
      (row) => row.id,
      (err) => (isDatabaseUnavailable(err) ? (e.memberId as string) : Promise.reject(err)),
    );
  }
  if (e.memberId) return (await requireMemberRow(ctx, programId, e.memberId)).id;
  const { member } = await registerMember({ ctx, input: { programId, externalId: e.externalId!, acquisitionChannel: "partner" } });
  return member.id;
}

/**
 * Apply one event. `applied` learns the member it concerned, stored with its result so that
 * erasing the member later redacts the result too.
 */
async function applyEvent(
  ctx: ServiceContext,
  programId: string,
  index: number,
  e: PartnerEvent,
  applied: { memberId?: string },
): Promise<EventOutcome> {
  // The key is derived from the partner's event id (system namespace); the facts are the partner's.
  const idempotencyKey = systemKeys.partner(e.eventId);
  const actor = ctx.principal?.scope ?? "partner";
  const source = writeSourceOf(ctx.principal);
  switch (e.type) {
    case "sale": {
      const { eventId: _e, type: _t, memberId: _m, externalId: _x, ...purchase } = e;
      const memberId = await resolveMember(ctx, programId, e, true);
      applied.memberId = memberId;
      const req = await systemWriteRequest({ programId, memberId, idempotencyKey, operation: "accrue", body: purchase, actor, source });
      return fromLedger(index, e, await memberLedger(ctx.env, programId, memberId).accrue(req, purchase));
    }
    case "refund": {
      const [order] = await ctx.db
        .select({
          memberId: orders.memberId,
          sourceScope: orders.sourceScope,
          sourceKeyId: orders.sourceKeyId,
          sourcePartner: orders.sourcePartner,
        })
        .from(orders)
        .where(and(eq(orders.programId, programId), eq(orders.orderId, e.orderId)))
        .limit(1);
      if (!order) throw notFound("Order");
      assertMayRefund(ctx.principal, e.orderId, order);
      applied.memberId = order.memberId;
      const body = { amount: e.amount, reason: e.reason };
      const req = await systemWriteRequest({
        programId,
        memberId: order.memberId,
        idempotencyKey,
        operation: `refund:${e.orderId}`,
        body,
        actor,
        source,
      });
      return fromLedger(
        index,
        e,
        await memberLedger(ctx.env, programId, order.memberId).refund(req, { orderId: e.orderId, amount: e.amount, reason: e.reason }),
      );
    }
    case "activity": {
      const memberId = await resolveMember(ctx, programId, e);
      applied.memberId = memberId;
      const body = { kind: e.kind, occurredAt: e.occurredAt, attributes: e.attributes };
      const req = await systemWriteRequest({ programId, memberId, idempotencyKey, operation: "activity", body, actor, source });
      return fromLedger(index, e, await memberLedger(ctx.env, programId, memberId).recordActivity(req, body));
    }
    case "member.upsert": {
      const { eventId: _e, type: _t, occurredAt: _o, externalId, tags, ...profile } = e;
      const [existing] = await ctx.db
        .select({ id: members.id })
        .from(members)
        .where(and(eq(members.programId, programId), eq(members.externalId, externalId)))
        .limit(1);
      if (!existing) {
        const { created, member } = await registerMember({
          ctx,
          input: { programId, externalId, tags, acquisitionChannel: "partner", ...profile },
        });
        applied.memberId = member.id;
        await linkPartnerMember(ctx, programId, member.id);
        return { index, eventId: e.eventId, type: e.type, status: created ? 201 : 200, replayed: false, result: { created, member } };
      }
      applied.memberId = existing.id;
      await linkPartnerMember(ctx, programId, existing.id);
      const patch = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
      let member = Object.keys(patch).length
        ? await updateMember({ ctx, input: { programId, memberId: existing.id, patch } })
        : await getMember({ ctx, input: { programId, memberId: existing.id } });
      if (tags?.length) member = await changeTags({ ctx, input: { programId, memberId: existing.id, add: tags, remove: [] } });
      return { index, eventId: e.eventId, type: e.type, status: 200, replayed: false, result: { created: false, member } };
    }
    case "member.erase": {
      // Never registers: an unknown (or already erased, so no longer stored) externalId is 404.
      const memberId = e.memberId
        ? (await requireMemberRow(ctx, programId, e.memberId)).id
        : (await findMemberByExternalId({ ctx, input: { programId, externalId: e.externalId! } })).id;
      // Erasing is not touching: a partner limited to its members erases only those.
      await assertMemberVisible(ctx, ctx.principal, memberId);
      applied.memberId = memberId;
      const member = await eraseMember({ ctx, input: { programId, memberId } });
      return { index, eventId: e.eventId, type: e.type, status: 200, replayed: false, result: { member } };
    }
  }
}

/**
 * Events for one member must apply in order (a sale, then its refund), so events are
 * grouped into lanes by member (or by the order a refund names) and lanes run in parallel.
 */
async function laneKeys(ctx: ServiceContext, programId: string, events: Array<{ index: number; event: PartnerEvent }>) {
  const refundOrders = [...new Set(events.flatMap(({ event }) => (event.type === "refund" ? [event.orderId] : [])))];
  const owners = new Map<string, string>();
  if (refundOrders.length) {
    const rows = await ctx.db
      .select({ orderId: orders.orderId, memberId: orders.memberId })
      .from(orders)
      .where(and(eq(orders.programId, programId), inArray(orders.orderId, refundOrders)));
    for (const r of rows) owners.set(r.orderId, `m:${r.memberId}`);
  }
  const memberLane = (e: { memberId?: string; externalId?: string }) => (e.memberId ? `m:${e.memberId}` : `x:${e.externalId}`);
  const saleLanes = new Map<string, string>();
  for (const { event } of events) if (event.type === "sale") saleLanes.set(event.orderId, memberLane(event));
  return events.map(({ event }) => {
    if (event.type === "refund") return saleLanes.get(event.orderId) ?? owners.get(event.orderId) ?? `o:${event.orderId}`;
    return event.type === "member.upsert" ? `x:${event.externalId}` : memberLane(event);
  });
}

/** Validate and apply partner events; one outcome per input, in input order. */
export async function ingestPartnerEvents({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; events: unknown[] };
}): Promise<EventOutcome[]> {
  const { programId } = input;
  const parsed = input.events.map(validate);
  const outcomes: EventOutcome[] = new Array(parsed.length);
  const valid: Array<{ index: number; event: PartnerEvent }> = [];
  for (const p of parsed) {
    if ("outcome" in p) outcomes[p.index] = p.outcome;
    else valid.push(p);
  }

  // Resends: answer with what was stored the first time.
  const ids = [...new Set(valid.map((v) => v.event.eventId))];
  const stored = new Map<string, { type: string; status: number; result: unknown }>();
  for (let i = 0; i < ids.length; i += 200) {
    const rows = await ctx.db
      .select({ eventId: partnerEvents.eventId, type: partnerEvents.type, status: partnerEvents.status, result: partnerEvents.result })
      .from(partnerEvents)
      .where(and(eq(partnerEvents.programId, programId), inArray(partnerEvents.eventId, ids.slice(i, i + 200))))
      // Database away: a sale's own idempotency (partner:<eventId>, in the member's object and queue) still holds.
      .catch((err) => (isDatabaseUnavailable(err) ? [] : Promise.reject(err)));
    for (const r of rows) stored.set(r.eventId, r);
  }

  const fresh: Array<{ index: number; event: PartnerEvent }> = [];
  const firstIndex = new Map<string, number>();
  const duplicates: Array<{ index: number; event: PartnerEvent }> = [];
  for (const v of valid) {
    const s = stored.get(v.event.eventId);
    if (s)
      outcomes[v.index] = { index: v.index, eventId: v.event.eventId, type: s.type, status: s.status, replayed: true, result: s.result };
    else if (firstIndex.has(v.event.eventId)) duplicates.push(v);
    else {
      firstIndex.set(v.event.eventId, v.index);
      fresh.push(v);
    }
  }

  const keys = await laneKeys(ctx, programId, fresh);
  const lanes = new Map<string, Array<{ index: number; event: PartnerEvent }>>();
  fresh.forEach((v, i) => {
    const lane = lanes.get(keys[i]) ?? [];
    lane.push(v);
    lanes.set(keys[i], lane);
  });
  const memberOf = new Map<number, string>();
  await mapLimit([...lanes.values()], LANE_CONCURRENCY, async (lane) => {
    for (const { index, event } of lane) {
      const applied: { memberId?: string } = {};
      try {
        outcomes[index] = await applyEvent(ctx, programId, index, event, applied);
        if (applied.memberId) memberOf.set(index, applied.memberId);
      } catch (err) {
        if (err instanceof AppError) outcomes[index] = failed(index, event, err);
        else if (isDatabaseUnavailable(err))
          outcomes[index] = failed(
            index,
            event,
            new AppError("service_unavailable", "The database cannot be reached; resend this event later"),
          );
        else {
          console.error(
            JSON.stringify({
              level: "error",
              requestId: ctx.requestId,
              job: "partner.events",
              eventId: event.eventId,
              message: String(err),
              stack: (err as Error)?.stack,
            }),
          );
          outcomes[index] = failed(index, event, new AppError("internal_error", "Internal error; resending this event is safe"));
        }
      }
    }
  });
  for (const d of duplicates) outcomes[d.index] = { ...outcomes[firstIndex.get(d.event.eventId)!], index: d.index, replayed: true };

  // A queued sale's result is not final yet: a resend asks the member's object again.
  const applied = fresh.map((f) => outcomes[f.index]).filter((o) => o.status < 300 && !o.queued);
  const now = nowIso();
  for (let i = 0; i < applied.length; i += 100) {
    const rows = applied.slice(i, i + 100).map((o) => ({
      eventId: o.eventId,
      type: o.type,
      memberId: memberOf.get(o.index) ?? null,
      status: o.status,
      result: o.result ?? {},
    }));
    // A member erased meanwhile (by this batch or anyone) gets the redacted result, as erasure gives stored ones.
    await ctx.db.run(sql`
      INSERT INTO partner_events (program_id, event_id, type, member_id, status, result, created_at)
      SELECT ${programId}, v.value ->> '$.eventId', v.value ->> '$.type', v.value ->> '$.memberId', v.value ->> '$.status',
        CASE WHEN v.value ->> '$.type' <> 'member.erase' AND EXISTS (
            SELECT 1 FROM erased_members x WHERE x.program_id = ${programId} AND x.member_id = v.value ->> '$.memberId')
          THEN json_object('memberId', v.value ->> '$.memberId', 'redacted', json('true'))
          ELSE v.value -> '$.result' END,
        ${now}
      FROM json_each(${JSON.stringify(rows)}) v WHERE true
      ON CONFLICT DO NOTHING`);
  }
  return outcomes;
}

export function summarize(outcomes: EventOutcome[]) {
  return {
    received: outcomes.length,
    applied: outcomes.filter((o) => o.status < 300 && o.status !== 202 && !o.replayed).length,
    replayed: outcomes.filter((o) => o.replayed).length,
    unsupported: outcomes.filter((o) => o.status === 202 && !o.queued && !o.replayed).length,
    queued: outcomes.filter((o) => o.queued && !o.replayed).length,
    failed: outcomes.filter((o) => o.status >= 400).length,
  };
}
