// Custom segments: a JSON rule over member facts, e.g.
//   { "and": [ { "field": "stage", "op": "in", "value": ["dormant", "at_risk"] },
//              { "field": "rfm.m", "op": "gte", "value": 4 },
//              { "not": { "field": "tags", "op": "contains", "value": "do-not-disturb" } } ] }
// validated by `segmentRuleSchema`, evaluated per member by `evaluateSegmentRule`, and
// optionally compiled to a SQLite WHERE expression (`compileSegmentRuleToSql`) so the cron
// can recompute membership set-based. Both paths implement the same semantics:
//
// - A fact that is missing (undefined, null, NaN) matches nothing except `exists: false`:
//   `neq` and `nin` need a present value too ("tier is not gold" ≠ "has no tier").
// - `not` is plain boolean negation, so `not (churnProbability gt 0.5)` does include members
//   who were never scored; use `lte` if they should be left out.
// - Comparisons are strict about types: "5" ≠ 5, and gt/lt compare numbers with numbers and
//   strings with strings (ISO dates in attributes compare correctly as strings).
// - List facts (tags, feedbackTags, list-valued attributes): `contains` = the list has the
//   value, `in` = the list shares at least one value, `nin` = it shares none. On a string
//   attribute `contains` is a substring test. Matching is case-sensitive.
// - `between` is inclusive at both ends. `exists` takes true or false; an empty list exists.
import { z } from "zod";
import { type Instant, LIFECYCLE_STAGES, type LifecycleStage, wholeDaysBetween } from "../lifecycle/stages";
import { VALUE_SEGMENTS, type ValueSegment } from "./value-segments";

// ---------------------------------------------------------------- facts and fields

const CONSENT_CHANNELS = ["email", "sms", "push", "line", "wechat"] as const;
type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** What a segment rule can look at for one member. Missing values are undefined or null. */
export type MemberFacts = {
  tierId?: string | null;
  /** Rank of the member's tier (higher = better); null without a tier. */
  tierRank?: number | null;
  tags?: readonly string[] | null;
  stage?: LifecycleStage | null;
  /** score = r + f + m (3–15). */
  rfm?: { r?: number | null; f?: number | null; m?: number | null; score?: number | null } | null;
  valueSegment?: ValueSegment | null;
  churnProbability?: number | null;
  /** Customer lifetime value, minor units. */
  clv?: number | null;
  /** Points balance. */
  balance?: number | null;
  /** Minor units. */
  lifetimeSpend?: number | null;
  orders?: number | null;
  daysSinceLastPurchase?: number | null;
  /** Days since the last purchase or reported activity (review, visit, app login…), whichever is later. */
  daysSinceLastActivity?: number | null;
  joinedDaysAgo?: number | null;
  /** 1–12. */
  birthdayMonth?: number | null;
  consent?: Partial<Record<ConsentChannel, boolean | null>> | null;
  /** 0–10. */
  lastNps?: number | null;
  feedbackTags?: readonly string[] | null;
  /** Free-form; rules address them as `attributes.<key>` (flat keys). */
  attributes?: Record<string, unknown> | null;
};

type FieldKind = "number" | "string" | "boolean" | "enum" | "list" | "any";
type FieldSpec = { kind: FieldKind; values?: readonly string[] };

const FIXED_FIELDS = {
  tierId: { kind: "string" },
  tierRank: { kind: "number" },
  tags: { kind: "list" },
  stage: { kind: "enum", values: LIFECYCLE_STAGES },
  "rfm.r": { kind: "number" },
  "rfm.f": { kind: "number" },
  "rfm.m": { kind: "number" },
  "rfm.score": { kind: "number" },
  valueSegment: { kind: "enum", values: VALUE_SEGMENTS },
  churnProbability: { kind: "number" },
  clv: { kind: "number" },
  balance: { kind: "number" },
  lifetimeSpend: { kind: "number" },
  orders: { kind: "number" },
  daysSinceLastPurchase: { kind: "number" },
  daysSinceLastActivity: { kind: "number" },
  joinedDaysAgo: { kind: "number" },
  birthdayMonth: { kind: "number" },
  lastNps: { kind: "number" },
  feedbackTags: { kind: "list" },
} as const satisfies Record<string, FieldSpec>;

type FixedSegmentField = keyof typeof FIXED_FIELDS;
type SegmentField = FixedSegmentField | `consent.${ConsentChannel}` | `attributes.${string}`;
/** Every fixed field name (plus the `consent.<channel>` and `attributes.<key>` families). */
const SEGMENT_FIELDS = Object.keys(FIXED_FIELDS) as FixedSegmentField[];

const CONSENT_PREFIX = "consent.";
const ATTRIBUTES_PREFIX = "attributes.";
// Attribute keys end up inside a quoted JSON path in SQL: no double quotes, backslashes or control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class lists the control characters a key must not contain
const ATTRIBUTE_KEY = /^[^"\\\u0000-\u001f]{1,100}$/;

function fieldSpec(field: string): FieldSpec | undefined {
  if (Object.hasOwn(FIXED_FIELDS, field)) return FIXED_FIELDS[field as FixedSegmentField];
  if (field.startsWith(CONSENT_PREFIX)) {
    return (CONSENT_CHANNELS as readonly string[]).includes(field.slice(CONSENT_PREFIX.length)) ? { kind: "boolean" } : undefined;
  }
  if (field.startsWith(ATTRIBUTES_PREFIX)) {
    return ATTRIBUTE_KEY.test(field.slice(ATTRIBUTES_PREFIX.length)) ? { kind: "any" } : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------- rule shape and schema

const SEGMENT_OPS = ["eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists", "between"] as const;
type SegmentOp = (typeof SEGMENT_OPS)[number];

const OPS_BY_KIND: Record<FieldKind, readonly SegmentOp[]> = {
  number: ["eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "between", "exists"],
  string: ["eq", "neq", "in", "nin", "exists"],
  enum: ["eq", "neq", "in", "nin", "exists"],
  boolean: ["eq", "neq", "exists"],
  list: ["contains", "in", "nin", "exists"],
  any: SEGMENT_OPS,
};

const KIND_LABEL: Record<FieldKind, string> = {
  number: "a number",
  string: "a string",
  boolean: "true or false",
  enum: "one of a fixed set",
  list: "a list of strings",
  any: "a free-form attribute",
};

type SegmentCondition = { field: SegmentField; op: SegmentOp; value?: unknown };
export type SegmentRule = { and: SegmentRule[] } | { or: SegmentRule[] } | { not: SegmentRule } | SegmentCondition;

const SEGMENT_RULE_MAX_DEPTH = 8;
const SEGMENT_RULE_MAX_NODES = 500;
const SEGMENT_RULE_MAX_CHILDREN = 100;
const SEGMENT_RULE_MAX_LIST = 1000;

const FIELD_HELP = `${SEGMENT_FIELDS.join(", ")}, consent.<${CONSENT_CHANNELS.join("|")}>, attributes.<key>`;

type Scalar = string | number | boolean;
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "boolean" || isFiniteNumber(v);

/** Whether `v` is an acceptable operand for eq / in / contains on a field of this spec. */
function scalarProblem(spec: FieldSpec, v: unknown): string | null {
  switch (spec.kind) {
    case "number":
      return isFiniteNumber(v) ? null : "a number";
    case "string":
    case "list":
      return typeof v === "string" ? null : "a string";
    case "boolean":
      return typeof v === "boolean" ? null : "true or false";
    case "enum":
      return typeof v === "string" && spec.values!.includes(v) ? null : `one of ${spec.values!.join(", ")}`;
    case "any":
      return isScalar(v) ? null : "a string, number or boolean";
  }
}

/** Whether `v` can be ordered against the field (gt / between). */
function orderedProblem(spec: FieldSpec, v: unknown): string | null {
  if (spec.kind === "number") return isFiniteNumber(v) ? null : "a number";
  return isFiniteNumber(v) || typeof v === "string" ? null : "a number or a string";
}

function conditionProblems(field: string, op: string, value: unknown): Array<{ path: string; message: string }> {
  const spec = fieldSpec(field);
  if (!spec) {
    const hint = field.startsWith(CONSENT_PREFIX)
      ? `consent channels are ${CONSENT_CHANNELS.join(", ")}`
      : field.startsWith(ATTRIBUTES_PREFIX)
        ? "attribute keys are 1–100 characters without quotes, backslashes or control characters"
        : `expected one of ${FIELD_HELP}`;
    return [{ path: "field", message: `unknown field "${field}": ${hint}` }];
  }
  if (!(SEGMENT_OPS as readonly string[]).includes(op)) {
    return [{ path: "op", message: `unknown op "${op}": expected one of ${SEGMENT_OPS.join(", ")}` }];
  }
  const allowed = OPS_BY_KIND[spec.kind];
  if (!allowed.includes(op as SegmentOp)) {
    return [{ path: "op", message: `op "${op}" does not apply to ${field} (${KIND_LABEL[spec.kind]}): use one of ${allowed.join(", ")}` }];
  }
  const bad = (message: string) => [{ path: "value", message: `${op} on ${field} needs ${message}` }];
  switch (op as SegmentOp) {
    case "exists":
      return typeof value === "boolean" ? [] : bad("value true or false");
    case "eq":
    case "neq":
    case "contains": {
      const p = scalarProblem(spec, value);
      return p ? bad(`a value that is ${p}`) : [];
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const p = orderedProblem(spec, value);
      return p ? bad(`a value that is ${p}`) : [];
    }
    case "in":
    case "nin": {
      if (!Array.isArray(value) || value.length === 0 || value.length > SEGMENT_RULE_MAX_LIST)
        return bad(`a list of 1–${SEGMENT_RULE_MAX_LIST} values`);
      for (const item of value) {
        const p = scalarProblem(spec, item);
        if (p) return bad(`list items that are ${p} (got ${JSON.stringify(item)})`);
      }
      return [];
    }
    case "between": {
      if (!Array.isArray(value) || value.length !== 2) return bad("a value [min, max]");
      const [lo, hi] = value;
      const p = orderedProblem(spec, lo) ?? orderedProblem(spec, hi);
      if (p) return bad(`[min, max] that are each ${p}`);
      if (typeof lo !== typeof hi) return bad("[min, max] of the same type");
      if ((lo as number | string) > (hi as number | string)) return bad("min ≤ max");
      return [];
    }
  }
}

const COMPOSITE_KEYS = ["and", "or", "not"] as const;
const NODE_SHAPE = '{ "and": [...] }, { "or": [...] }, { "not": {...} } or a condition { "field", "op", "value" }';

type RawNode = { and?: RawNode[]; or?: RawNode[]; not?: RawNode; field?: string; op?: string; value?: unknown };

// One object schema for every node (and / or / not / condition) so errors point at the
// offending key instead of "no union member matched"; the refinement below checks the shape.
const ruleNodeSchema: z.ZodType<RawNode> = z
  .strictObject({
    get and() {
      return z.array(ruleNodeSchema).min(1).max(SEGMENT_RULE_MAX_CHILDREN).optional();
    },
    get or() {
      return z.array(ruleNodeSchema).min(1).max(SEGMENT_RULE_MAX_CHILDREN).optional();
    },
    get not() {
      return ruleNodeSchema.optional();
    },
    field: z.string({ error: 'field must be a string such as "tags" or "attributes.city"' }).optional(),
    op: z.string({ error: `op must be one of ${SEGMENT_OPS.join(", ")}` }).optional(),
    value: z.unknown().optional(),
  })
  .superRefine((node, ctx) => {
    const composites = COMPOSITE_KEYS.filter((k) => node[k] !== undefined);
    const isCondition = node.field !== undefined || node.op !== undefined || node.value !== undefined;
    if (composites.length + (isCondition ? 1 : 0) !== 1) {
      ctx.addIssue({ code: "custom", message: `a rule node is exactly one of ${NODE_SHAPE}` });
      return;
    }
    if (!isCondition) return;
    if (node.field === undefined) ctx.addIssue({ code: "custom", path: ["field"], message: "a condition needs a field" });
    if (node.op === undefined) ctx.addIssue({ code: "custom", path: ["op"], message: "a condition needs an op" });
    if (node.field === undefined || node.op === undefined) return;
    for (const p of conditionProblems(node.field, node.op, node.value)) {
      ctx.addIssue({ code: "custom", path: [p.path], message: p.message });
    }
  });

/**
 * Checked before the recursive parse so a hostile, very deep document is rejected with a
 * clear message instead of exhausting the stack. Depth: a lone condition is 1, each
 * and / or / not around it adds 1.
 */
function checkSize(input: unknown, ctx: z.RefinementCtx) {
  let nodes = 0;
  const walk = (node: unknown, depth: number): boolean => {
    if (depth > SEGMENT_RULE_MAX_DEPTH) {
      ctx.addIssue({ code: "custom", message: `a segment rule may nest at most ${SEGMENT_RULE_MAX_DEPTH} levels deep` });
      return false;
    }
    if (++nodes > SEGMENT_RULE_MAX_NODES) {
      ctx.addIssue({ code: "custom", message: `a segment rule may have at most ${SEGMENT_RULE_MAX_NODES} nodes` });
      return false;
    }
    if (typeof node !== "object" || node === null) return true;
    const n = node as Record<string, unknown>;
    for (const key of ["and", "or"] as const) {
      const children = n[key];
      if (Array.isArray(children)) for (const child of children) if (!walk(child, depth + 1)) return false;
    }
    return n.not === undefined || walk(n.not, depth + 1);
  };
  walk(input, 1);
}

/** Validates a segment rule (shape, fields, ops, value types, depth ≤ 8, ≤ 500 nodes). */
export const segmentRuleSchema = z.unknown().superRefine(checkSize).pipe(ruleNodeSchema) as unknown as z.ZodType<SegmentRule, unknown>;

const formatPath = (path: readonly PropertyKey[]) =>
  path.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), "");

/** Parses a rule and turns zod issues into readable "path: message" lines. */
export function parseSegmentRule(input: unknown): { ok: true; rule: SegmentRule } | { ok: false; errors: string[] } {
  const result = segmentRuleSchema.safeParse(input);
  if (result.success) return { ok: true, rule: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message)),
  };
}

// ---------------------------------------------------------------- evaluation

type Predicate = (facts: MemberFacts) => boolean;

const isMissing = (v: unknown) => v === undefined || v === null || (typeof v === "number" && Number.isNaN(v));

function factAccessor(field: string): (facts: MemberFacts) => unknown {
  if (field.startsWith(ATTRIBUTES_PREFIX)) {
    const key = field.slice(ATTRIBUTES_PREFIX.length);
    // Own properties only: "attributes.constructor" must not find Object's prototype.
    return (f) => (f.attributes && Object.hasOwn(f.attributes, key) ? f.attributes[key] : undefined);
  }
  const dot = field.indexOf(".");
  if (dot < 0) return (f) => (f as Record<string, unknown>)[field];
  const [outer, inner] = [field.slice(0, dot), field.slice(dot + 1)];
  return (f) => {
    const o = (f as Record<string, unknown>)[outer];
    return o && typeof o === "object" ? (o as Record<string, unknown>)[inner] : undefined;
  };
}

const sameTypeOrdered = (a: unknown, b: unknown) =>
  (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string");

function valueTest(op: SegmentOp, operand: unknown): (v: unknown) => boolean {
  switch (op) {
    case "exists":
      return (v) => !isMissing(v) === operand;
    case "eq":
      return (v) => v === operand;
    case "neq":
      return (v) => !isMissing(v) && v !== operand;
    case "gt":
      return (v) => sameTypeOrdered(v, operand) && (v as number) > (operand as number);
    case "gte":
      return (v) => sameTypeOrdered(v, operand) && (v as number) >= (operand as number);
    case "lt":
      return (v) => sameTypeOrdered(v, operand) && (v as number) < (operand as number);
    case "lte":
      return (v) => sameTypeOrdered(v, operand) && (v as number) <= (operand as number);
    case "between": {
      const [lo, hi] = operand as [number, number];
      return (v) => sameTypeOrdered(v, lo) && (v as number) >= lo && (v as number) <= hi;
    }
    case "in":
    case "nin": {
      const set = new Set(operand as Scalar[]);
      const shares = (v: unknown) => (Array.isArray(v) ? v.some((x) => set.has(x)) : set.has(v as Scalar));
      return op === "in" ? (v) => !isMissing(v) && shares(v) : (v) => !isMissing(v) && !shares(v);
    }
    case "contains":
      return (v) => (Array.isArray(v) ? v.includes(operand) : typeof v === "string" && typeof operand === "string" && v.includes(operand));
  }
}

function compileNode(node: SegmentRule): Predicate {
  if ("and" in node) {
    const parts = node.and.map(compileNode);
    return (f) => parts.every((p) => p(f));
  }
  if ("or" in node) {
    const parts = node.or.map(compileNode);
    return (f) => parts.some((p) => p(f));
  }
  if ("not" in node) {
    const inner = compileNode(node.not);
    return (f) => !inner(f);
  }
  const get = factAccessor(node.field);
  const test = valueTest(node.op, node.value);
  // eq never matches a missing value by construction (operands are never null).
  return (f) => test(get(f));
}

const compiled = new WeakMap<object, Predicate>();

/**
 * A predicate for a validated rule (from `segmentRuleSchema`); build it once and reuse it
 * over a batch of members.
 */
export function segmentPredicate(rule: SegmentRule): Predicate {
  let p = compiled.get(rule);
  if (!p) {
    p = compileNode(rule);
    compiled.set(rule, p);
  }
  return p;
}

/** Whether the member matches a validated segment rule. */
export function evaluateSegmentRule(rule: SegmentRule, facts: MemberFacts): boolean {
  return segmentPredicate(rule)(facts);
}

// ---------------------------------------------------------------- facts from a member row

/** The member row columns facts are built from (the drizzle `members` select shape). */
export type MemberRowForFacts = {
  tierId?: string | null;
  tags?: readonly string[] | null;
  stage?: string | null;
  rfmR?: number | null;
  rfmF?: number | null;
  rfmM?: number | null;
  valueSegment?: string | null;
  churnProbability?: number | null;
  clv12m?: number | null;
  pointsBalance?: number | null;
  lifetimeSpend?: number | null;
  ordersCount?: number | null;
  lastPurchaseAt?: string | null;
  lastActivityAt?: string | null;
  createdAt?: string | null;
  birthday?: string | null;
  consent?: Partial<Record<ConsentChannel, boolean | null>> | null;
  lastNps?: number | null;
  feedbackTags?: readonly string[] | null;
  attributes?: Record<string, unknown> | null;
};

/** The later of the last purchase and the last reported activity (ISO instants compare as text). */
const lastEngagedAt = (row: MemberRowForFacts): string | null => {
  // ISO instants compare as strings: the later of the two that exist.
  const known = [row.lastPurchaseAt, row.lastActivityAt].filter((at): at is string => at != null);
  return known.sort().at(-1) ?? null;
};

/** Month of a "YYYY-MM-DD…" or "--MM-DD" birthday; null otherwise. */
export function birthdayMonthOf(birthday: string | null | undefined): number | null {
  const match = birthday ? /^(?:\d{4}|-)-(\d{2})-\d{2}/.exec(birthday) : null;
  return match ? Number(match[1]) : null;
}

/**
 * Facts for one member row, computed exactly as `memberSqlFields` computes them in SQL, so
 * the JS and SQL paths put the same members in a segment.
 */
export function memberFactsFromRow(row: MemberRowForFacts, opts: { now: Instant; tierRank?: number | null }): MemberFacts {
  const { rfmR: r, rfmF: f, rfmM: m } = row;
  const present = (v: number | null | undefined): v is number => v !== null && v !== undefined;
  return {
    tierId: row.tierId ?? null,
    tierRank: opts.tierRank ?? null,
    tags: row.tags ?? null,
    stage: (row.stage as LifecycleStage | null | undefined) ?? null,
    rfm: { r, f, m, score: present(r) && present(f) && present(m) ? r + f + m : null },
    valueSegment: (row.valueSegment as ValueSegment | null | undefined) ?? null,
    churnProbability: row.churnProbability ?? null,
    clv: row.clv12m ?? null,
    balance: row.pointsBalance ?? null,
    lifetimeSpend: row.lifetimeSpend ?? null,
    orders: row.ordersCount ?? null,
    daysSinceLastPurchase: row.lastPurchaseAt ? wholeDaysBetween(row.lastPurchaseAt, opts.now) : null,
    daysSinceLastActivity: lastEngagedAt(row) ? wholeDaysBetween(lastEngagedAt(row) as string, opts.now) : null,
    joinedDaysAgo: row.createdAt ? wholeDaysBetween(row.createdAt, opts.now) : null,
    birthdayMonth: birthdayMonthOf(row.birthday),
    consent: row.consent ?? null,
    lastNps: row.lastNps ?? null,
    feedbackTags: row.feedbackTags ?? null,
    attributes: row.attributes ?? null,
  };
}

// ---------------------------------------------------------------- compilation to SQL

type SqlArg = string | number;
/** A SQL fragment with its positional (`?`) arguments, in order. */
export type SqlFragment = { sql: string; args: SqlArg[] };

/**
 * How a field is read in SQL:
 * - scalar: an expression that is NULL when the fact is missing
 * - list: an expression holding a JSON array of strings (tags)
 * - json: a JSON column and a path into it (free-form attributes)
 */
type SqlField =
  | { kind: "scalar"; expr: SqlFragment }
  | { kind: "list"; expr: SqlFragment }
  | { kind: "json"; column: string; path: string };
export type SqlFieldResolver = (field: SegmentField) => SqlField;

const frag = (sql: string, ...args: SqlArg[]): SqlFragment => ({ sql, args });
const join = (parts: SqlFragment[], sep: string): SqlFragment => ({
  sql: parts.map((p) => p.sql).join(sep),
  args: parts.flatMap((p) => p.args),
});
/** Booleans bind as 1/0, which is how SQLite's JSON functions return true/false. */
const bindable = (v: Scalar): SqlArg => (typeof v === "boolean" ? (v ? 1 : 0) : v);
const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/**
 * The `members` table (see schema/members.ts) as segment fields. `now` is an ISO-8601 time;
 * day counts use whole seconds like `wholeDaysBetween`.
 */
export function memberSqlFields(opts: { now: string; alias?: string }): SqlFieldResolver {
  const a = opts.alias ?? "m";
  const col = (name: string): SqlField => ({ kind: "scalar", expr: frag(`${a}.${name}`) });
  const daysSince = (column: string): SqlField => ({
    kind: "scalar",
    // Multi-argument MAX is NULL when any argument is NULL: a missing date stays missing.
    expr: frag(`MAX(0, (unixepoch(?) - unixepoch(${a}.${column})) / 86400)`, opts.now),
  });
  const fixed: Record<FixedSegmentField, SqlField> = {
    tierId: col("tier_id"),
    tierRank: { kind: "scalar", expr: frag(`(SELECT t.rank FROM tiers t WHERE t.id = ${a}.tier_id)`) },
    tags: { kind: "list", expr: frag(`${a}.tags`) },
    stage: col("stage"),
    "rfm.r": col("rfm_r"),
    "rfm.f": col("rfm_f"),
    "rfm.m": col("rfm_m"),
    "rfm.score": { kind: "scalar", expr: frag(`(${a}.rfm_r + ${a}.rfm_f + ${a}.rfm_m)`) },
    valueSegment: col("value_segment"),
    churnProbability: col("churn_probability"),
    clv: col("clv_12m"),
    balance: col("points_balance"),
    lifetimeSpend: col("lifetime_spend"),
    orders: col("orders_count"),
    daysSinceLastPurchase: daysSince("last_purchase_at"),
    daysSinceLastActivity: {
      kind: "scalar",
      expr: frag(
        `MAX(0, (unixepoch(?) - unixepoch(NULLIF(MAX(COALESCE(${a}.last_purchase_at, ''), COALESCE(${a}.last_activity_at, '')), ''))) / 86400)`,
        opts.now,
      ),
    },
    joinedDaysAgo: daysSince("created_at"),
    birthdayMonth: {
      kind: "scalar",
      expr: frag(
        `(CASE WHEN ${a}.birthday GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN CAST(substr(${a}.birthday, 6, 2) AS INTEGER)` +
          ` WHEN ${a}.birthday GLOB '--[0-9][0-9]-[0-9][0-9]*' THEN CAST(substr(${a}.birthday, 3, 2) AS INTEGER) END)`,
      ),
    },
    lastNps: col("last_nps"),
    feedbackTags: { kind: "list", expr: frag(`${a}.feedback_tags`) },
  };
  return (field) => {
    if (Object.hasOwn(fixed, field)) return fixed[field as FixedSegmentField];
    if (field.startsWith(CONSENT_PREFIX)) {
      // The channel comes from the closed CONSENT_CHANNELS list, safe to inline.
      return { kind: "scalar", expr: frag(`json_extract(${a}.consent, '$.${field.slice(CONSENT_PREFIX.length)}')`) };
    }
    return { kind: "json", column: `${a}.attributes`, path: `$."${field.slice(ATTRIBUTES_PREFIX.length)}"` };
  };
}

/** SQL test that a (type, value) pair of JSON-typed columns equals a scalar. */
function jsonTypedEq(type: string, value: string, x: Scalar): SqlFragment {
  if (typeof x === "boolean") return frag(`${type} = '${x ? "true" : "false"}'`);
  if (typeof x === "number") return frag(`(${type} IN ('integer', 'real') AND ${value} = ?)`, x);
  return frag(`(${type} = 'text' AND ${value} = ?)`, x);
}

function jsonTypedIn(type: string, value: string, xs: Scalar[]): SqlFragment {
  const strings = xs.filter((x): x is string => typeof x === "string");
  const numbers = xs.filter((x): x is number => typeof x === "number");
  const parts: SqlFragment[] = [];
  if (strings.length) parts.push(frag(`(${type} = 'text' AND ${value} IN (${placeholders(strings.length)}))`, ...strings));
  if (numbers.length) parts.push(frag(`(${type} IN ('integer', 'real') AND ${value} IN (${placeholders(numbers.length)}))`, ...numbers));
  if (xs.includes(true)) parts.push(frag(`${type} = 'true'`));
  if (xs.includes(false)) parts.push(frag(`${type} = 'false'`));
  const joined = join(parts, " OR ");
  return { sql: `(${joined.sql})`, args: joined.args };
}

const SQL_COMPARATORS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

// Every leaf compiles to an expression that is 0 or 1, never NULL, so NOT / AND / OR
// behave exactly like the JS evaluator (SQL's three-valued logic would make
// `NOT (x > 5)` drop members with no x).
function compileScalar(e: SqlFragment, op: SegmentOp, x: unknown): SqlFragment {
  const wrap = (sql: string, ...args: SqlArg[]) => frag(`COALESCE(${e.sql} ${sql}, 0)`, ...e.args, ...args);
  switch (op) {
    case "exists":
      return frag(`(${e.sql} IS ${x ? "NOT NULL" : "NULL"})`, ...e.args);
    case "eq":
      return wrap("= ?", bindable(x as Scalar));
    case "neq":
      return wrap("<> ?", bindable(x as Scalar));
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return wrap(`${SQL_COMPARATORS[op]} ?`, x as SqlArg);
    case "between":
      return wrap("BETWEEN ? AND ?", ...(x as [SqlArg, SqlArg]));
    case "in":
    case "nin": {
      const xs = (x as Scalar[]).map(bindable);
      return wrap(`${op === "in" ? "IN" : "NOT IN"} (${placeholders(xs.length)})`, ...xs);
    }
    case "contains":
      throw new Error("contains does not apply to scalar fields");
  }
}

function compileList(e: SqlFragment, op: SegmentOp, x: unknown): SqlFragment {
  const has = (where: string, ...args: SqlArg[]) =>
    frag(`EXISTS (SELECT 1 FROM json_each(${e.sql}) je WHERE je.type = 'text' AND ${where})`, ...e.args, ...args);
  switch (op) {
    case "exists":
      return frag(`(${e.sql} IS ${x ? "NOT NULL" : "NULL"})`, ...e.args);
    case "contains":
      return has("je.value = ?", x as string);
    case "in":
      return has(`je.value IN (${placeholders((x as string[]).length)})`, ...(x as string[]));
    case "nin": {
      const inner = has(`je.value IN (${placeholders((x as string[]).length)})`, ...(x as string[]));
      return frag(`(${e.sql} IS NOT NULL AND NOT ${inner.sql})`, ...e.args, ...inner.args);
    }
    default:
      throw new Error(`${op} does not apply to list fields`);
  }
}

/** A SQL string literal; SQLite has no backslash escapes, only doubled quotes. */
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

function compileJson(column: string, path: string, op: SegmentOp, x: unknown): SqlFragment {
  // A JSON null counts as missing, like null in the facts.
  const t = `COALESCE(json_type(${column}, ${sqlString(path)}), 'null')`;
  const v = `json_extract(${column}, ${sqlString(path)})`;
  const inArray = (test: SqlFragment) =>
    frag(`(${t} = 'array' AND EXISTS (SELECT 1 FROM json_each(${column}, ${sqlString(path)}) je WHERE ${test.sql}))`, ...test.args);
  switch (op) {
    case "exists":
      return frag(`(${t} ${x ? "<>" : "="} 'null')`);
    case "eq":
      return jsonTypedEq(t, v, x as Scalar);
    case "neq": {
      const eq = jsonTypedEq(t, v, x as Scalar);
      return frag(`(${t} <> 'null' AND NOT ${eq.sql})`, ...eq.args);
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte":
    case "between": {
      const types = typeof (Array.isArray(x) ? x[0] : x) === "number" ? "IN ('integer', 'real')" : "= 'text'";
      if (op === "between") return frag(`(${t} ${types} AND ${v} BETWEEN ? AND ?)`, ...(x as [SqlArg, SqlArg]));
      return frag(`(${t} ${types} AND ${v} ${SQL_COMPARATORS[op]} ?)`, x as SqlArg);
    }
    case "in":
    case "nin": {
      const direct = jsonTypedIn(t, v, x as Scalar[]);
      const viaArray = inArray(jsonTypedIn("je.type", "je.value", x as Scalar[]));
      const shares = frag(`(${direct.sql} OR ${viaArray.sql})`, ...direct.args, ...viaArray.args);
      return op === "in" ? shares : frag(`(${t} <> 'null' AND NOT ${shares.sql})`, ...shares.args);
    }
    case "contains": {
      const viaArray = inArray(jsonTypedEq("je.type", "je.value", x as Scalar));
      if (typeof x !== "string") return viaArray;
      return frag(`(${viaArray.sql} OR (${t} = 'text' AND instr(${v}, ?) > 0))`, ...viaArray.args, x);
    }
  }
}

/**
 * A SQLite boolean expression (0/1) selecting the members a validated rule matches, e.g.
 *   const where = compileSegmentRuleToSql(rule, memberSqlFields({ now }));
 *   db.execute({ sql: `SELECT m.id FROM members m WHERE m.program_id = ? AND ${where.sql}`, args: [programId, ...where.args] });
 */
export function compileSegmentRuleToSql(rule: SegmentRule, fields: SqlFieldResolver): SqlFragment {
  if ("and" in rule || "or" in rule) {
    const parts = ("and" in rule ? rule.and : rule.or).map((r) => compileSegmentRuleToSql(r, fields));
    const joined = join(parts, "and" in rule ? " AND " : " OR ");
    return { sql: `(${joined.sql})`, args: joined.args };
  }
  if ("not" in rule) {
    const inner = compileSegmentRuleToSql(rule.not, fields);
    return { sql: `(NOT ${inner.sql})`, args: inner.args };
  }
  const field = fields(rule.field);
  if (field.kind === "json") return compileJson(field.column, field.path, rule.op, rule.value);
  if (field.kind === "list") return compileList(field.expr, rule.op, rule.value);
  return compileScalar(field.expr, rule.op, rule.value);
}
