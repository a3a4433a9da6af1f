import { and, inArray, isNull, notInArray, sql } from "drizzle-orm";
import { outboxEvents } from "../../../schema";
import { type Database, database } from "../../db/client";
import { CALENDAR_TRIGGERS, EVENT_TRIGGERS, withinWindow } from "../../domain/campaigns/definition";
import {
  anniversaryOccurrenceKey,
  BROADCAST_OCCURRENCE_KEY,
  birthdayMonthDaysOn,
  birthdayOccurrenceKey,
  broadcastDue,
  CONSUMED_EVENT_TYPES,
  closeToTierOccurrenceKey,
  eventContext,
  expiringOccurrenceKey,
  matchEvent,
  type OutboxEventFacts,
  segmentEntryOccurrenceKey,
  tierAtRiskOccurrenceKey,
} from "../../domain/campaigns/triggers";
import { addLocalDays, localDate } from "../../domain/local-time";
import { meetsConditions, thresholdsOf, tiersByRank } from "../../domain/tiers/qualification";
import type { Env } from "../../env";
import { memberLedger } from "../ledger/write";
import { rescrubErasedMembers } from "../members/erasure";
import { markRan, type ProgramDay, programsDueToday } from "../program/local-day";
import { loadTiers, windowStart } from "../tiers/ladder";
import { type LoadedCampaign, loadActiveCampaigns } from "./campaigns";
import { addCounts, type Candidate, emptyCounts, type FireCounts, fireCampaign } from "./fire";

/** Bounded work per cron run; the next run continues where this one stopped. */
const MAX_PAGES = 20;
/** Runs in which firing an event's campaigns may fail before the event is skipped (and alerted), so it cannot hold the queue. */
export const MAX_DISPATCH_ATTEMPTS = 5;

/**
 * Event-driven triggers (welcome, tier up, stage change) from the transactional outbox.
 * `outbox_events.dispatched_at` is this consumer's marker (webhooks keep their own cursor):
 * a page of undispatched events is matched against the programs' active campaigns, fired,
 * then marked. A crash between firing and marking only means the page is read again, and
 * the occurrence keys make the second pass fire nothing. An event whose firing fails stays
 * behind alone (the rest of its page is marked), is retried by the next runs, and after
 * MAX_DISPATCH_ATTEMPTS failed runs is marked anyway with an alert: it cannot hold the queue.
 */
export async function consumeOutboxEvents(env: Env, now: Date, batchSize: number) {
  const db = database(env);
  const at = now.toISOString();
  let totals = { events: 0, matched: 0, held: 0, skipped: 0, ...emptyCounts() };
  const heldThisRun: string[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const events = await db
      .select({
        id: outboxEvents.id,
        programId: outboxEvents.programId,
        memberId: outboxEvents.memberId,
        type: outboxEvents.type,
        payload: outboxEvents.payload,
        createdAt: outboxEvents.createdAt,
        dispatchAttempts: outboxEvents.dispatchAttempts,
      })
      .from(outboxEvents)
      .where(and(isNull(outboxEvents.dispatchedAt), notInArray(outboxEvents.id, heldThisRun)))
      .orderBy(outboxEvents.dispatchedAt, outboxEvents.id)
      .limit(batchSize);
    if (events.length === 0) break;
    const relevant = events.filter((e) => (CONSUMED_EVENT_TYPES as readonly string[]).includes(e.type));
    const campaigns = await loadActiveCampaigns(db, [...new Set(relevant.map((e) => e.programId))], EVENT_TRIGGERS);
    const failed = new Set<string>();
    for (const c of campaigns) {
      const matched = relevant
        .filter((e) => e.programId === c.row.programId)
        .flatMap((e) => matchingCandidate(c, { ...e, payload: e.payload ?? {} }).map((candidate) => ({ event: e, candidate })));
      totals.matched += matched.length;
      if (matched.length === 0) continue;
      try {
        totals = {
          ...totals,
          ...addCounts(
            totals,
            await fireCampaign(
              env,
              c,
              matched.map((m) => m.candidate),
              now,
            ),
          ),
        };
      } catch {
        // One by one, so only the events that fail stay behind.
        for (const m of matched) {
          try {
            totals = { ...totals, ...addCounts(totals, await fireCampaign(env, c, [m.candidate], now)) };
          } catch (err) {
            failed.add(m.event.id);
            console.error(
              JSON.stringify({ level: "error", job: "campaigns.events", eventId: m.event.id, campaignId: c.row.id, message: String(err) }),
            );
          }
        }
      }
    }
    await rescrubErased(env, db, events);
    const held = events.filter((e) => failed.has(e.id) && e.dispatchAttempts + 1 < MAX_DISPATCH_ATTEMPTS);
    for (const e of events.filter((x) => failed.has(x.id) && x.dispatchAttempts + 1 >= MAX_DISPATCH_ATTEMPTS))
      console.error(
        JSON.stringify({
          level: "alert",
          job: "campaigns.events",
          programId: e.programId,
          eventId: e.id,
          type: e.type,
          attempts: e.dispatchAttempts + 1,
          message: "event skipped after repeated failures: its campaigns did not fire",
        }),
      );
    const heldIds = new Set(held.map((e) => e.id));
    const done = events.filter((e) => !heldIds.has(e.id)).map((e) => e.id);
    await db.batch([
      db
        .update(outboxEvents)
        .set({ dispatchAttempts: sql`${outboxEvents.dispatchAttempts} + 1` })
        .where(and(inArray(outboxEvents.id, [...failed]), isNull(outboxEvents.dispatchedAt))),
      db
        .update(outboxEvents)
        .set({ dispatchedAt: at })
        .where(and(inArray(outboxEvents.id, done), isNull(outboxEvents.dispatchedAt))),
    ]);
    heldThisRun.push(...heldIds);
    totals.events += events.length;
    totals.held += held.length;
    totals.skipped += failed.size - held.length;
    if (events.length < batchSize) break;
  }
  return totals;
}

/**
 * Erasure's second pass: the erasure itself scrubbed everything in one batch, but a write that
 * was in flight then (a campaign firing, a partner result, a feedback) may have landed after
 * it. When its `member.erased` event comes by, the same scrub runs again and the member's
 * cached lookup view is dropped (the import CLI erases without reaching it).
 */
async function rescrubErased(env: Env, db: Database, events: Array<{ type: string; programId: string; memberId: string | null }>) {
  const erased = events.flatMap((e) =>
    e.type === "member.erased" && e.memberId ? [{ programId: e.programId, memberId: e.memberId }] : [],
  );
  if (erased.length === 0) return;
  await rescrubErasedMembers(db, erased);
  if (env.MEMBER_LEDGER) await Promise.all(erased.map((e) => memberLedger(env, e.programId, e.memberId).forget()));
}

/** Campaigns react to events from when they exist, inside their window. */
function matchingCandidate(c: LoadedCampaign, e: OutboxEventFacts): Candidate[] {
  if (e.createdAt < c.row.createdAt || !withinWindow(c.def, e.createdAt)) return [];
  const key = matchEvent(c.def.trigger, e);
  return key && e.memberId ? [{ memberId: e.memberId, occurrenceKey: key, context: eventContext(e) }] : [];
}

/** Page through member ids with a cursor, firing each page. */
async function firePages(env: Env, c: LoadedCampaign, now: Date, page: (afterId: string) => Promise<Candidate[]>, batchSize: number) {
  let counts: FireCounts = emptyCounts();
  let complete = false;
  let afterId = "";
  for (let i = 0; i < MAX_PAGES; i++) {
    const candidates = await page(afterId);
    if (candidates.length) counts = addCounts(counts, await fireCampaign(env, c, candidates, now));
    if (candidates.length < batchSize) {
      complete = true;
      break;
    }
    afterId = candidates[candidates.length - 1].memberId;
  }
  return { counts, complete };
}

/**
 * Broadcasts to a segment, once per member, from their send time. Each run covers members
 * without an occurrence yet; when a pass reaches the end of the segment the campaign is
 * ended (awards already fired are still honoured by the ledger).
 */
export async function runBroadcasts(env: Env, now: Date, batchSize: number) {
  const db = database(env);
  const at = now.toISOString();
  const programs = (
    await db.all<{ id: string }>(sql`SELECT DISTINCT program_id AS id FROM campaigns WHERE trigger = 'broadcast' AND status = 'active'`)
  ).map((r) => r.id);
  const result: Record<string, FireCounts & { complete: boolean }> = {};
  for (const c of await loadActiveCampaigns(db, programs, ["broadcast"])) {
    if (c.def.trigger.type !== "broadcast" || !broadcastDue(c.def.trigger, at) || !withinWindow(c.def, at) || !c.def.audience.segmentId)
      continue;
    const segmentId = c.def.audience.segmentId;
    const { counts, complete } = await firePages(
      env,
      c,
      now,
      async (afterId) =>
        (
          await db.all<{ memberId: string }>(sql`
            SELECT s.member_id AS memberId FROM segment_members s
            WHERE s.segment_id = ${segmentId} AND s.member_id > ${afterId}
              AND NOT EXISTS (SELECT 1 FROM campaign_occurrences o WHERE o.campaign_id = ${c.row.id} AND o.member_id = s.member_id AND o.occurrence_key = ${BROADCAST_OCCURRENCE_KEY})
            ORDER BY s.member_id LIMIT ${batchSize}`)
        ).map((r) => ({ memberId: r.memberId, occurrenceKey: BROADCAST_OCCURRENCE_KEY })),
      batchSize,
    );
    if (complete) await db.run(sql`UPDATE campaigns SET status = 'ended', updated_at = ${at} WHERE id = ${c.row.id} AND status = 'active'`);
    result[c.row.id] = { ...counts, complete };
  }
  return result;
}

const CALENDAR_JOB = "campaigns.calendar";

/**
 * Calendar triggers: birthdays, points about to expire, anniversaries of joining, members close
 * to the next tier and tiers at risk, once per program per local day. Runs hourly and acts for
 * each program once its local day has begun (its time zone), so "today" and "this month" are
 * the program's; a failed run is retried the next hour.
 */
export async function runCalendarTriggers(env: Env, now: Date, batchSize: number, scope: { programId?: string } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const types = sql.join(
    CALENDAR_TRIGGERS.map((t) => sql`${t}`),
    sql`, `,
  );
  const withCampaigns = (
    await db.all<{ id: string }>(
      sql`SELECT DISTINCT program_id AS id FROM campaigns WHERE trigger IN (${types}) AND status = 'active'
        ${scope.programId ? sql`AND program_id = ${scope.programId}` : sql``}`,
    )
  ).map((r) => r.id);
  const due = await programsDueToday(db, CALENDAR_JOB, withCampaigns, now);
  const result: Record<string, FireCounts> = {};
  for (const program of due) {
    for (const c of await loadActiveCampaigns(db, [program.programId], CALENDAR_TRIGGERS)) {
      if (!withinWindow(c.def, at)) continue;
      const t = c.def.trigger.type;
      if (t === "birthday" || t === "points_expiring") {
        const pager = t === "birthday" ? birthdayPage(db, c, program, batchSize) : expiringPage(db, c, program, now, batchSize);
        result[c.row.id] = (await firePages(env, c, now, pager, batchSize)).counts;
      } else {
        const scan = t === "anniversary" ? anniversaryScan(db, c, program, batchSize) : await tierScan(db, c, program, now, batchSize);
        result[c.row.id] = await fireScanned(env, c, now, scan, batchSize);
      }
    }
    await markRan(db, CALENDAR_JOB, program, now);
  }
  return result;
}

/** A page of members looked at (the cursor) and those of them the trigger picked. */
type Scanned = { lastId: string | null; scanned: number; candidates: Candidate[] };

/** Like firePages, for scans that pick some of the members they read (the cursor follows what was read). */
async function fireScanned(env: Env, c: LoadedCampaign, now: Date, scan: (afterId: string) => Promise<Scanned>, batchSize: number) {
  let counts: FireCounts = emptyCounts();
  let afterId = "";
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await scan(afterId);
    if (page.candidates.length) counts = addCounts(counts, await fireCampaign(env, c, page.candidates, now));
    if (page.scanned < batchSize || !page.lastId) break;
    afterId = page.lastId;
  }
  return counts;
}

/** Members who joined on this local month-day in an earlier year (29 February joiners on the 28th in other years). */
function anniversaryScan(db: Database, c: LoadedCampaign, program: ProgramDay, batchSize: number) {
  const key = anniversaryOccurrenceKey(program.day);
  const monthDays = birthdayMonthDaysOn(program.day);
  // created_at is UTC: its UTC date is the local date or one day off, so read both and keep the local match.
  const utcDays = [
    ...new Set([
      ...monthDays,
      ...monthDays.map((d) => addLocalDays(`2000-${d}`, -1).slice(5)),
      ...monthDays.map((d) => addLocalDays(`2000-${d}`, 1).slice(5)),
    ]),
  ];
  return async (afterId: string): Promise<Scanned> => {
    const rows = await db.all<{ id: string; createdAt: string }>(sql`
      SELECT m.id AS id, m.created_at AS createdAt FROM members m
      WHERE m.program_id = ${c.row.programId} AND m.status = 'active' AND m.id > ${afterId}
        AND substr(m.created_at, 6, 5) IN (${sql.join(
          utcDays.map((d) => sql`${d}`),
          sql`, `,
        )})
      ORDER BY m.id LIMIT ${batchSize}`);
    const candidates = rows
      .filter((r) => {
        const joined = localDate(r.createdAt, program.timeZone);
        return joined.slice(0, 4) < program.day.slice(0, 4) && monthDays.includes(joined.slice(5));
      })
      .map((r) => ({
        memberId: r.id,
        occurrenceKey: key,
        context: { years: Number(program.day.slice(0, 4)) - Number(localDate(r.createdAt, program.timeZone).slice(0, 4)) },
      }));
    return { lastId: rows.at(-1)?.id ?? null, scanned: rows.length, candidates };
  };
}

const money = (minor: number) => (minor % 100 === 0 ? String(minor / 100) : (minor / 100).toFixed(2));

/**
 * close_to_next_tier and tier_at_risk: members with their spend, orders, points and active days
 * in the tier window (from member_daily_figures), judged against the ladder in code.
 */
async function tierScan(
  db: Database,
  c: LoadedCampaign,
  program: ProgramDay,
  now: Date,
  batchSize: number,
): Promise<(afterId: string) => Promise<Scanned>> {
  const ladder = tiersByRank(await loadTiers(db, c.row.programId));
  const at = now.toISOString();
  const since = windowStart(at, ladder).slice(0, 10);
  const trigger = c.def.trigger;
  return async (afterId) => {
    if (ladder.length === 0) return { lastId: null, scanned: 0, candidates: [] };
    const riskFilter =
      trigger.type === "tier_at_risk"
        ? sql`AND m.tier_secured_until > ${at} AND m.tier_secured_until <= ${new Date(now.getTime() + trigger.daysAhead * 86_400_000).toISOString()}
            AND (m.assigned_tier_until IS NULL OR m.assigned_tier_until <= m.tier_secured_until)`
        : sql``;
    const rows = await db.all<{
      id: string;
      tierId: string | null;
      tierSince: string | null;
      securedUntil: string | null;
      spend: number;
      orders: number;
      points: number;
      activeDays: number;
    }>(sql`
      SELECT m.id AS id, m.tier_id AS tierId, m.tier_since AS tierSince, m.tier_secured_until AS securedUntil,
        COALESCE(SUM(f.spend), 0) AS spend, COALESCE(SUM(f.orders), 0) AS orders, COALESCE(SUM(f.points), 0) AS points,
        COUNT(f.day) FILTER (WHERE f.placed > 0) AS activeDays
      FROM members m LEFT JOIN member_daily_figures f ON f.member_id = m.id AND f.day >= ${since}
      WHERE m.program_id = ${c.row.programId} AND m.status = 'active' AND m.id > ${afterId} ${riskFilter}
      GROUP BY m.id ORDER BY m.id LIMIT ${batchSize}`);
    const candidates: Candidate[] = [];
    for (const r of rows) {
      const figures = {
        spend: Number(r.spend),
        orders: Number(r.orders),
        pointsEarned: Math.max(0, Number(r.points)),
        activeDays: Number(r.activeDays),
      };
      const current = ladder.find((t) => t.id === r.tierId) ?? ladder[0];
      if (trigger.type === "close_to_next_tier") {
        const next = ladder.find((t) => t.rank > current.rank && !t.inviteOnly);
        const spend = next ? thresholdsOf(next, figures).find((x) => x.metric === "spend") : undefined;
        if (!next || !spend) continue;
        const missing = spend.required - spend.current;
        if (missing <= 0 || missing > trigger.withinMinor) continue;
        candidates.push({
          memberId: r.id,
          occurrenceKey: closeToTierOccurrenceKey(next.id, r.tierSince),
          context: { nextTier: next.name, missingMinor: missing, missingAmount: money(missing) },
        });
      } else if (trigger.type === "tier_at_risk" && r.securedUntil && current.rank > ladder[0].rank && !meetsConditions(current, figures)) {
        const spend = thresholdsOf(current, figures).find((x) => x.metric === "spend");
        const missing = spend ? Math.max(0, spend.required - spend.current) : null;
        candidates.push({
          memberId: r.id,
          occurrenceKey: tierAtRiskOccurrenceKey(r.securedUntil),
          context: {
            // The day the member reads, on the program's calendar.
            securedUntil: localDate(r.securedUntil, program.timeZone),
            daysLeft: Math.ceil((Date.parse(r.securedUntil) - now.getTime()) / 86_400_000),
            keepMissingMinor: missing,
            keepMissingAmount: missing === null ? null : money(missing),
          },
        });
      }
    }
    return { lastId: rows.at(-1)?.id ?? null, scanned: rows.length, candidates };
  };
}

/**
 * segment_entry: members added to the campaign's segment since it was created (every minute,
 * from segment_members.added_at); an entry fires once, a new entry after leaving fires again.
 */
export async function runSegmentEntries(env: Env, now: Date, batchSize: number, scope: { programId?: string } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const programs = (
    await db.all<{ id: string }>(sql`SELECT DISTINCT program_id AS id FROM campaigns WHERE trigger = 'segment_entry' AND status = 'active'
      ${scope.programId ? sql`AND program_id = ${scope.programId}` : sql``}`)
  ).map((r) => r.id);
  const result: Record<string, FireCounts> = {};
  for (const c of await loadActiveCampaigns(db, programs, ["segment_entry"])) {
    if (c.def.trigger.type !== "segment_entry" || !withinWindow(c.def, at)) continue;
    const segmentId = c.def.trigger.segmentId;
    const { counts } = await firePages(
      env,
      c,
      now,
      async (afterId) =>
        (
          await db.all<{ memberId: string; addedAt: string }>(sql`
            SELECT s.member_id AS memberId, s.added_at AS addedAt FROM segment_members s
            WHERE s.segment_id = ${segmentId} AND s.program_id = ${c.row.programId} AND s.added_at >= ${c.row.createdAt} AND s.member_id > ${afterId}
              AND NOT EXISTS (SELECT 1 FROM campaign_occurrences o WHERE o.campaign_id = ${c.row.id} AND o.member_id = s.member_id
                AND o.occurrence_key = 'segment_entry:' || s.added_at)
            ORDER BY s.member_id LIMIT ${batchSize}`)
        ).map((r) => ({ memberId: r.memberId, occurrenceKey: segmentEntryOccurrenceKey(r.addedAt) })),
      batchSize,
    );
    result[c.row.id] = counts;
  }
  return result;
}

function birthdayPage(db: Database, c: LoadedCampaign, program: ProgramDay, batchSize: number) {
  const key = birthdayOccurrenceKey(program.day);
  const onDay = c.def.trigger.type === "birthday" && c.def.trigger.on === "day";
  const match = onDay
    ? sql`substr(m.birthday, 6, 5) IN (${sql.join(
        birthdayMonthDaysOn(program.day).map((d) => sql`${d}`),
        sql`, `,
      )})`
    : sql`substr(m.birthday, 6, 2) = ${program.day.slice(5, 7)}`;
  return async (afterId: string): Promise<Candidate[]> =>
    (
      await db.all<{ memberId: string }>(sql`
        SELECT m.id AS memberId FROM members m
        WHERE m.program_id = ${c.row.programId} AND m.status = 'active' AND m.birthday IS NOT NULL AND ${match} AND m.id > ${afterId}
          AND NOT EXISTS (SELECT 1 FROM campaign_occurrences o WHERE o.campaign_id = ${c.row.id} AND o.member_id = m.id AND o.occurrence_key = ${key})
        ORDER BY m.id LIMIT ${batchSize}`)
    ).map((r) => ({ memberId: r.memberId, occurrenceKey: key }));
}

function expiringPage(db: Database, c: LoadedCampaign, program: ProgramDay, now: Date, batchSize: number) {
  const trigger = c.def.trigger.type === "points_expiring" ? c.def.trigger : { daysAhead: 30, minPoints: 1 };
  const at = now.toISOString();
  const horizon = new Date(now.getTime() + trigger.daysAhead * 86_400_000).toISOString();
  return async (afterId: string): Promise<Candidate[]> =>
    (
      await db.all<{ memberId: string; firstExpiresAt: string; points: number }>(sql`
        SELECT member_id AS memberId, MIN(expires_at) AS firstExpiresAt, SUM(remaining) AS points FROM (
          SELECT member_id, expires_at, remaining FROM point_lots
          WHERE program_id = ${c.row.programId} AND remaining > 0 AND expires_at > ${at} AND expires_at <= ${horizon} AND member_id > ${afterId}
          UNION ALL
          -- Inactivity lots carry no date: they expire with their member's deadline.
          SELECT l.member_id, m.inactivity_expires_at, l.remaining FROM members m JOIN point_lots l ON l.member_id = m.id
          WHERE m.program_id = ${c.row.programId} AND m.inactivity_expires_at > ${at} AND m.inactivity_expires_at <= ${horizon} AND m.id > ${afterId}
            AND l.expiry_kind = 'inactivity' AND l.remaining > 0
        )
        GROUP BY member_id HAVING SUM(remaining) >= ${trigger.minPoints}
        ORDER BY member_id LIMIT ${batchSize}`)
    ).map((r) => {
      // The day the member sees on the program's calendar.
      const expiresOn = localDate(r.firstExpiresAt, program.timeZone);
      return {
        memberId: r.memberId,
        occurrenceKey: expiringOccurrenceKey(expiresOn),
        context: { expiringPoints: Number(r.points), expiresOn },
      };
    });
}
