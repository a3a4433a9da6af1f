import { and, eq, inArray, sql } from "drizzle-orm";
import { earningRules, ledgerEntries, members, orders, pointLots, ruleMemberUsage } from "../../../schema";
import type { Database } from "../../db/client";
import { expiryPolicyOf, lotExpiry, lotExpiryColumns } from "../../domain/points/expiry";
import { BASE_LINE_ID, evaluateRules, type RuleUsage } from "../../domain/rules/engine";
import type { ProgramRow } from "../../ledger/state";
import { systemKeys } from "../../ledger/system-keys";
import { newId, randomBase32 } from "../../lib/ids";
import { addDays, nowIso, toUtcIso } from "../../lib/time";
import { eraseMemberData } from "../members/erasure";
import { loadActiveRules } from "../rules/earning";
import { loadTiers } from "../tiers/ladder";
import type { ImportErasureRow, ImportMemberRow, ImportTransactionRow } from "./import-rows";

const noConsent = { email: false, sms: false, push: false, line: false, wechat: false };

/**
 * Bulk member upsert, idempotent on (program, externalId): new members are inserted, existing
 * ones keep their data. One batch per call.
 */
export async function importMembers(db: Database, programId: string, rows: ImportMemberRow[]) {
  if (rows.length === 0) return { inserted: 0, externalIds: [] };
  const now = nowIso();
  const values = rows.map((r) => ({
    id: newId("mem", r.joinedAt ? Date.parse(r.joinedAt) : Date.now()),
    programId,
    externalId: r.externalId,
    email: r.email ?? null,
    phone: r.phone ?? null,
    name: r.name ?? null,
    birthday: r.birthday ?? null,
    tags: r.tags ?? [],
    consent: { ...noConsent, email: r.consentEmail ?? false, sms: r.consentSms ?? false },
    referralCode: randomBase32(8).toUpperCase(),
    acquisitionChannel: r.acquisitionChannel ?? "import",
    createdAt: r.joinedAt ? toUtcIso(r.joinedAt) : now,
    updatedAt: now,
  }));
  const inserted = await db.insert(members).values(values).onConflictDoNothing().returning({ externalId: members.externalId });
  return { inserted: inserted.length, externalIds: inserted.map((m) => m.externalId) };
}

type MemberState = {
  id: string;
  ordersCount: number;
  tierId: string | null;
  firstPurchaseAt: string | null;
  lastPurchaseAt: string | null;
};

/**
 * Historical purchases in bulk, with the ledger's semantics: each order earns through the
 * program's rules engine (the same evaluateRules as accrual), as a lot with the program's
 * hold and expiry counted from when it happened; balances move by relative updates. Rule caps
 * and budgets hold as on the API: usage so far is read, counted order by order, and recorded
 * with the chunk (the budget CHECK fails the chunk rather than let it overspend).
 * Idempotent by orderId: orders already present are skipped; a chunk commits atomically,
 * so a crash leaves either all of it or none. Writes the database directly, not through the
 * members' Durable Objects: for filling a program nobody uses yet (seed, benchmarks, tests); an
 * import into a live program goes through `POST /v1/imports/transactions` (ledger-import.ts).
 */
export async function importTransactions(
  db: Database,
  program: ProgramRow,
  rows: ImportTransactionRow[],
  opts: { autoRegister?: boolean } = {},
) {
  const result = { imported: 0, skippedExisting: 0, pointsEarned: 0, membersCreated: 0 };
  if (rows.length === 0) return result;
  const existing = new Set(
    (
      await db
        .select({ orderId: orders.orderId })
        .from(orders)
        .where(
          and(
            eq(orders.programId, program.id),
            inArray(
              orders.orderId,
              rows.map((r) => r.orderId),
            ),
          ),
        )
    ).map((o) => o.orderId),
  );
  const fresh = rows.filter((r) => {
    if (existing.has(r.orderId)) return false;
    existing.add(r.orderId);
    return true;
  });
  result.skippedExisting = rows.length - fresh.length;
  if (fresh.length === 0) return result;

  const externalIds = [...new Set(fresh.map((r) => r.externalId))];
  if (opts.autoRegister !== false) {
    const firstSeen = new Map<string, string>();
    for (const r of fresh)
      if (!firstSeen.has(r.externalId) || r.occurredAt < firstSeen.get(r.externalId)!) firstSeen.set(r.externalId, toUtcIso(r.occurredAt));
    result.membersCreated = (
      await importMembers(
        db,
        program.id,
        externalIds.map((externalId) => ({ externalId, joinedAt: firstSeen.get(externalId) })),
      )
    ).inserted;
  }
  const memberRows = await db
    .select({
      id: members.id,
      externalId: members.externalId,
      ordersCount: members.ordersCount,
      tierId: members.tierId,
      firstPurchaseAt: members.firstPurchaseAt,
      lastPurchaseAt: members.lastPurchaseAt,
    })
    .from(members)
    .where(and(eq(members.programId, program.id), inArray(members.externalId, externalIds)));
  const byExternal = new Map<string, MemberState>(memberRows.map((m) => [m.externalId, { ...m }]));
  const [rules, ladder] = await Promise.all([loadActiveRules(db, program.id), loadTiers(db, program.id)]);
  const policy = expiryPolicyOf(program);
  const usage = await importUsage(
    db,
    rules,
    memberRows.map((m) => m.id),
  );

  const now = nowIso();
  const orderValues = [];
  const entryValues = [];
  const lotValues = [];
  const deltas = new Map<string, { balance: number; spend: number; orders: number; first: string; last: string }>();
  for (const r of [...fresh].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1))) {
    const m = byExternal.get(r.externalId);
    if (!m) continue; // unknown member and autoRegister off: the caller reports it
    const occurredAt = toUtcIso(r.occurredAt);
    const tier = ladder.find((t) => t.id === m.tierId) ?? ladder[0];
    const earn = evaluateRules({
      rules,
      program: { basePointsPerUnit: program.basePointsPerUnit, unitMinor: program.unitMinor, timeZone: program.timeZone },
      event: { trigger: { type: "purchase" }, occurredAt, order: { amount: r.amount, channel: r.channel, storeId: r.storeId } },
      member: {
        tierId: tier?.id ?? null,
        tierMultiplier: tier?.benefits.pointsMultiplier ?? 1,
        segmentIds: [],
        isFirstPurchase: m.ordersCount === 0,
      },
      usage: usage.of(m.id),
    });
    usage.record(m.id, earn.lines);
    m.ordersCount++;
    orderValues.push({
      id: newId("ord", Date.parse(occurredAt)),
      programId: program.id,
      memberId: m.id,
      orderId: r.orderId,
      amount: r.amount,
      currency: program.currency,
      pointsEarned: earn.points,
      channel: r.channel ?? null,
      storeId: r.storeId ?? null,
      occurredAt,
      createdAt: now,
    });
    const d = deltas.get(m.id) ?? { balance: 0, spend: 0, orders: 0, first: occurredAt, last: occurredAt };
    d.spend += r.amount;
    d.orders += 1;
    if (occurredAt < d.first) d.first = occurredAt;
    if (occurredAt > d.last) d.last = occurredAt;
    if (earn.points > 0) {
      const entryId = newId("led", Date.parse(occurredAt));
      const availableAt = addDays(occurredAt, program.holdDays);
      const released = availableAt <= now ? 1 : 0;
      entryValues.push({
        id: entryId,
        programId: program.id,
        memberId: m.id,
        type: "earn" as const,
        points: earn.points,
        reason: `Purchase ${r.orderId}`,
        sourceType: "order",
        sourceId: r.orderId,
        ruleId: null,
        requestKey: systemKeys.import(r.orderId),
        metadata: { imported: true, lines: earn.lines.map((l) => ({ ruleId: l.ruleId, points: l.points })) },
        createdAt: occurredAt,
      });
      lotValues.push({
        id: newId("lot", Date.parse(occurredAt)),
        programId: program.id,
        memberId: m.id,
        entryId,
        orderId: r.orderId,
        points: earn.points,
        remaining: earn.points,
        availableAt,
        released,
        ...lotExpiryColumns(lotExpiry(policy, availableAt, program.timeZone)),
        createdAt: occurredAt,
      });
      d.balance += earn.points;
      result.pointsEarned += earn.points;
    }
    deltas.set(m.id, d);
    result.imported++;
  }
  const statements = [];
  // SQLite caps bound parameters per statement; insert in slices.
  for (let i = 0; i < orderValues.length; i += 200) statements.push(db.insert(orders).values(orderValues.slice(i, i + 200)));
  for (let i = 0; i < entryValues.length; i += 200) statements.push(db.insert(ledgerEntries).values(entryValues.slice(i, i + 200)));
  for (let i = 0; i < lotValues.length; i += 200) statements.push(db.insert(pointLots).values(lotValues.slice(i, i + 200)));
  statements.push(...usage.statements());
  for (const [memberId, d] of deltas) {
    statements.push(
      db
        .update(members)
        .set({
          pointsBalance: sql`${members.pointsBalance} + ${d.balance}`,
          // Derived from the lots (inserted above in this batch), as every ledger write sets it.
          pointsPending: sql`(SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE member_id = ${memberId} AND released = 0)`,
          lifetimeEarned: sql`${members.lifetimeEarned} + ${d.balance}`,
          lifetimeSpend: sql`${members.lifetimeSpend} + ${d.spend}`,
          ordersCount: sql`${members.ordersCount} + ${d.orders}`,
          firstPurchaseAt: sql`CASE WHEN ${members.firstPurchaseAt} IS NULL OR ${members.firstPurchaseAt} > ${d.first} THEN ${d.first} ELSE ${members.firstPurchaseAt} END`,
          lastPurchaseAt: sql`CASE WHEN ${members.lastPurchaseAt} IS NULL OR ${members.lastPurchaseAt} < ${d.last} THEN ${d.last} ELSE ${members.lastPurchaseAt} END`,
          lastActivityAt: sql`CASE WHEN ${members.lastActivityAt} IS NULL OR ${members.lastActivityAt} < ${d.last} THEN ${d.last} ELSE ${members.lastActivityAt} END`,
          // Under the inactivity policy the imported purchases move the member's deadline as live ones do.
          ...(policy.kind === "inactivity" && {
            inactivityExpiresAt: sql`MAX(COALESCE(${members.inactivityExpiresAt}, ''), ${addDays(d.last, policy.days)})`,
          }),
          updatedAt: now,
        })
        .where(eq(members.id, memberId)),
    );
  }
  if (statements.length > 0) await db.batch(statements as never);
  return result;
}

/**
 * Erasures in bulk (deletion requests, or re-applying `erased_members` after a restore): each
 * member is erased in its own batch with the same statements as the API. The CLI reaches the
 * database, not the members' Durable Objects: a cached lookup view of the member ages out within
 * MEMBER_VIEW_MAX_AGE_SECONDS (and is dropped when the `member.erased` event is consumed).
 * Rows naming no member of the program come back in `missing` (an erased member has no externalId).
 */
export async function importErasures(db: Database, programId: string, rows: ImportErasureRow[]) {
  const byExternal = rows.flatMap((r) => (r.externalId ? [r.externalId] : []));
  const byId = rows.flatMap((r) => (r.memberId ? [r.memberId] : []));
  const found = await db
    .select({ id: members.id, externalId: members.externalId })
    .from(members)
    .where(
      and(
        eq(members.programId, programId),
        sql`(${byId.length ? inArray(members.id, byId) : sql`0`} OR ${byExternal.length ? inArray(members.externalId, byExternal) : sql`0`})`,
      ),
    );
  const ids = new Set(found.map((m) => m.id));
  const idOfExternal = new Map(found.map((m) => [m.externalId, m.id]));
  const missing: number[] = [];
  let erased = 0;
  for (const [i, r] of rows.entries()) {
    const memberId = r.memberId ? (ids.has(r.memberId) ? r.memberId : undefined) : idOfExternal.get(r.externalId!);
    if (!memberId) {
      missing.push(i);
      continue;
    }
    await eraseMemberData(db, { programId, memberId, actor: { keyId: null, requestId: "import" } });
    erased++;
  }
  return { erased, missing };
}

/** Rule usage (per member, and each rule's total against its budget) for an import chunk, counted as its orders earn. */
async function importUsage(db: Database, rules: Array<{ id: string; pointsAwarded: number }>, memberIds: string[]) {
  const pair = (ruleId: string, memberId: string) => `${ruleId}|${memberId}`;
  const perMember = new Map<string, number>();
  if (rules.length > 0)
    for (let i = 0; i < memberIds.length; i += 500) {
      const rows = await db
        .select({ ruleId: ruleMemberUsage.ruleId, memberId: ruleMemberUsage.memberId, points: ruleMemberUsage.points })
        .from(ruleMemberUsage)
        .where(inArray(ruleMemberUsage.memberId, memberIds.slice(i, i + 500)));
      for (const r of rows) perMember.set(pair(r.ruleId, r.memberId), r.points);
    }
  const total = new Map(rules.map((r) => [r.id, r.pointsAwarded]));
  const added = new Map<string, { ruleId: string; memberId: string; points: number }>();
  return {
    of: (memberId: string): RuleUsage =>
      Object.fromEntries(
        rules.map((r) => [r.id, { memberPoints: perMember.get(pair(r.id, memberId)) ?? 0, totalPoints: total.get(r.id) ?? 0 }]),
      ),
    record(memberId: string, lines: Array<{ ruleId: string; points: number }>) {
      for (const l of lines) {
        if (l.ruleId === BASE_LINE_ID || l.points <= 0) continue;
        const k = pair(l.ruleId, memberId);
        perMember.set(k, (perMember.get(k) ?? 0) + l.points);
        total.set(l.ruleId, (total.get(l.ruleId) ?? 0) + l.points);
        const a = added.get(k) ?? { ruleId: l.ruleId, memberId, points: 0 };
        a.points += l.points;
        added.set(k, a);
      }
    },
    statements() {
      const byRule = new Map<string, number>();
      for (const a of added.values()) byRule.set(a.ruleId, (byRule.get(a.ruleId) ?? 0) + a.points);
      return [
        ...[...added.values()].map((a) =>
          db
            .insert(ruleMemberUsage)
            .values(a)
            .onConflictDoUpdate({
              target: [ruleMemberUsage.ruleId, ruleMemberUsage.memberId],
              set: { points: sql`${ruleMemberUsage.points} + ${a.points}` },
            }),
        ),
        ...[...byRule].map(([ruleId, points]) =>
          db
            .update(earningRules)
            .set({ pointsAwarded: sql`${earningRules.pointsAwarded} + ${points}` })
            .where(eq(earningRules.id, ruleId)),
        ),
      ];
    },
  };
}
