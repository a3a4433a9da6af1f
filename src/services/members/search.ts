import { and, asc, eq, gt, ne, or, type SQL, sql } from "drizzle-orm";
import { members, tiers } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";

type MemberSearchField = "email" | "phone" | "name" | "externalId";
export type MemberSearchInput = { programId: string; field: MemberSearchField; q: string; limit: number; cursor?: string };

/** The expressions the search indexes are built on (schema/members.ts): a query must repeat them exactly to use them. */
const emailKey = sql`lower(${members.email})`;
const phoneKey = sql`replace(replace(replace(replace(replace(${members.phone}, ' ', ''), '-', ''), '(', ''), ')', ''), '+', '')`;
const nameKey = sql`lower(${members.name})`;

/** Digits of a phone number as the index keeps them (spaces, dashes, brackets and the plus dropped). */
const phoneDigits = (q: string) => q.replace(/[\s()+-]/g, "");

/** The largest code point: `prefix || MAX` bounds a prefix range from above. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

/** A cursor is the last row's sort key and id (the key is only non-trivial for name prefixes). */
function decodeCursor(cursor: string | undefined): { key: string; id: string } | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof parsed?.k === "string" && typeof parsed?.i === "string") return { key: parsed.k, id: parsed.i };
  } catch {
    // falls through to the 400 below
  }
  throw new AppError("invalid_request", "cursor is not a nextCursor of this search", { fields: [{ path: "cursor", message: "invalid" }] });
}

const encodeCursor = (key: string, id: string) =>
  btoa(JSON.stringify({ k: key, i: id }))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

/**
 * Staff search over a program's members: exact email (case-insensitive), phone (by its digits)
 * and external id, or a name prefix (case-insensitive, ASCII folding as SQLite's lower()). Every
 * field is an index range on (program, key, id), paged by that order; erased members (no
 * personal data left) never match.
 */
export async function searchMembers({ ctx, input }: { ctx: ServiceContext; input: MemberSearchInput }) {
  const q = input.q.trim();
  if (!q) throw new AppError("invalid_request", "q must not be blank", { fields: [{ path: "q", message: "blank" }] });
  const after = decodeCursor(input.cursor);
  let key: SQL;
  let match: SQL;
  switch (input.field) {
    case "email":
      key = emailKey;
      match = sql`${emailKey} = ${q.toLowerCase()}`;
      break;
    case "phone": {
      const digits = phoneDigits(q);
      if (!/^[0-9]{3,20}$/.test(digits))
        throw new AppError("invalid_request", "phone must have 3 to 20 digits", { fields: [{ path: "q", message: "not a phone number" }] });
      key = phoneKey;
      match = sql`${phoneKey} = ${digits}`;
      break;
    }
    case "externalId":
      key = sql`${members.externalId}`;
      match = eq(members.externalId, q) as SQL;
      break;
    case "name": {
      const prefix = q.toLowerCase();
      key = nameKey;
      match = sql`${nameKey} >= ${prefix} AND ${nameKey} < ${prefix + MAX_CHAR}`;
      break;
    }
  }
  const rows = await ctx.db
    .select({
      id: members.id,
      externalId: members.externalId,
      status: members.status,
      email: members.email,
      phone: members.phone,
      name: members.name,
      tierId: members.tierId,
      tierName: tiers.name,
      createdAt: members.createdAt,
      sortKey: sql<string>`${key}`,
    })
    .from(members)
    .leftJoin(tiers, eq(tiers.id, members.tierId))
    .where(
      and(
        eq(members.programId, input.programId),
        match,
        ne(members.status, "erased"),
        after ? (or(sql`${key} > ${after.key}`, and(sql`${key} = ${after.key}`, gt(members.id, after.id))) as SQL) : undefined,
      ),
    )
    .orderBy(asc(key), asc(members.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(({ sortKey: _key, tierId, tierName, ...m }) => ({ ...m, tier: tierId ? { id: tierId, name: tierName ?? "" } : null })),
    nextCursor: rows.length > input.limit && last ? encodeCursor(String(last.sortKey), last.id) : null,
  };
}
