/** The demo program's configuration, created through the admin API (only what is missing). */
type Admin = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

const tiers = [
  { name: "Bronze", rank: 0, qualification: { windowDays: 365 }, benefits: { pointsMultiplier: 1 } },
  {
    name: "Silver",
    rank: 1,
    qualification: { windowDays: 365, mode: "any", minSpend: 50_000, minOrders: 6 },
    benefits: { pointsMultiplier: 1.1, discountPct: 5, birthdayGift: "5.00 voucher" },
    graceDays: 30,
  },
  {
    name: "Gold",
    rank: 2,
    qualification: { windowDays: 365, mode: "any", minSpend: 150_000, minOrders: 15 },
    benefits: { pointsMultiplier: 1.25, discountPct: 10, freeShipping: true, birthdayGift: "15.00 voucher" },
    graceDays: 60,
  },
  {
    name: "Diamond",
    rank: 3,
    qualification: { windowDays: 365, mode: "all", minSpend: 400_000, minOrders: 25 },
    benefits: { pointsMultiplier: 1.5, discountPct: 15, freeShipping: true, priorityService: true, birthdayGift: "Dinner for two" },
    graceDays: 90,
  },
];

const rules = [
  {
    name: "Double points at weekends",
    trigger: { type: "purchase" },
    conditions: { daysOfWeek: [0, 6] },
    effect: { type: "multiplier", factor: 2 },
    priority: 10,
  },
  {
    name: "App orders +1 per 2.00",
    trigger: { type: "purchase" },
    conditions: { channels: ["app"] },
    effect: { type: "per_currency_unit", points: 1, perMinorUnits: 200 },
    priority: 5,
  },
  {
    name: "First order welcome",
    trigger: { type: "purchase" },
    conditions: { firstPurchase: true },
    effect: { type: "fixed", points: 200 },
    priority: 20,
  },
  {
    name: "Big basket bonus",
    trigger: { type: "purchase" },
    conditions: { minAmount: 20_000 },
    effect: { type: "fixed", points: 100 },
    priority: 3,
    capPerMember: 1_000,
  },
  { name: "Signup bonus", trigger: { type: "signup" }, effect: { type: "fixed", points: 100 } },
  { name: "Birthday bonus", trigger: { type: "birthday" }, effect: { type: "fixed", points: 500 } },
  { name: "Product review", trigger: { type: "review" }, effect: { type: "fixed", points: 50 }, capPerMember: 500 },
  { name: "Survey answered", trigger: { type: "survey" }, effect: { type: "fixed", points: 30 } },
];

async function ensure(admin: Admin, path: string, items: Array<{ name: string }>, log: (...a: unknown[]) => void, listKey = "data") {
  const existing = await admin("GET", path);
  if (existing.status === 404 && !existing.body?.error?.message?.includes("not found")) {
    log(`skipping ${path}: route not available`);
    return {} as Record<string, string>;
  }
  const list: Array<{ id: string; name: string }> = existing.body?.[listKey] ?? existing.body ?? [];
  const byName: Record<string, string> = Object.fromEntries(list.map((i) => [i.name, i.id]));
  for (const item of items) {
    if (byName[item.name]) continue;
    const created = await admin("POST", path, item);
    if (created.status >= 300) throw new Error(`POST ${path} ${item.name}: ${created.status} ${JSON.stringify(created.body)}`);
    byName[item.name] = created.body.id;
  }
  return byName;
}

const rewards = (tierIds: Record<string, string>) => [
  { name: "5% off your next order", kind: "coupon_percent", pointsCost: 500, costMinor: 250, value: 5, couponValidDays: 60 },
  { name: "10.00 off", kind: "fixed_discount", pointsCost: 1_000, costMinor: 1_000, value: 1_000, couponValidDays: 90, perMemberLimit: 3 },
  { name: "Canvas tote bag", kind: "free_product", pointsCost: 1_500, costMinor: 600, productSku: "TOTE-1", inventory: 500 },
  {
    name: "Chef's table evening",
    kind: "experience",
    pointsCost: 10_000,
    costMinor: 8_000,
    inventory: 20,
    tierIds: [tierIds.Gold, tierIds.Diamond].filter(Boolean),
  },
];

const segments = [
  { name: "High spenders", description: "Lifetime spend of 1,000.00 or more", rule: { field: "lifetimeSpend", op: "gte", value: 100_000 } },
  { name: "Champions and loyal", rule: { field: "valueSegment", op: "in", value: ["champions", "loyal"] } },
  {
    name: "Lapsing valuable",
    description: "Win-back audience",
    rule: {
      and: [
        { field: "stage", op: "in", value: ["dormant", "at_risk"] },
        { field: "rfm.m", op: "gte", value: 4 },
      ],
    },
  },
  {
    name: "Email opted-in VIPs",
    rule: {
      and: [
        { field: "tags", op: "contains", value: "vip" },
        { field: "consent.email", op: "eq", value: true },
      ],
    },
  },
];

const campaigns = [
  {
    name: "Welcome series",
    trigger: { type: "welcome" },
    actions: [{ type: "send_message", channel: "email", template: "Hello {{name}}, welcome to Demo Shop! You have {{balance}} points." }],
    frequencyCap: { max: 1, perDays: 365 },
  },
  {
    name: "Win-back: we miss you",
    trigger: { type: "stage_change", to: ["at_risk", "churned"] },
    actions: [
      { type: "award_points", points: 200 },
      { type: "send_message", channel: "email", template: "{{name}}, we miss you: here are {{points}} points to come back." },
    ],
    frequencyCap: { max: 1, perDays: 180 },
    budgetMinor: 500_000,
    experiment: {
      variants: [
        { key: "points200", weight: 1 },
        {
          key: "points400",
          weight: 1,
          actions: [
            { type: "award_points", points: 400 },
            { type: "send_message", channel: "email", template: "{{name}}, we miss you: {{points}} points are waiting." },
          ],
        },
      ],
      holdoutPct: 10,
      conversion: { type: "purchase", windowDays: 30 },
      minimumDetectableEffect: 0.02,
      maxDurationDays: 60,
    },
  },
];

export async function demoConfig(admin: Admin, log: (...a: unknown[]) => void) {
  const tierIds = await ensure(admin, "/v1/tiers", tiers, log);
  const ruleIds = await ensure(admin, "/v1/rules", rules, log);
  const rewardIds = await ensure(admin, "/v1/rewards", rewards(tierIds), log);
  const referral = await admin("PUT", "/v1/referral-program", {
    referrerPoints: 500,
    refereePoints: 200,
    maxPerMonth: 10,
    minOrderAmount: 3_000,
  });
  if (referral.status >= 300) log(`referral program: ${referral.status}`);
  const segmentIds = await ensure(admin, "/v1/segments", segments, log);
  const campaignIds = await ensure(admin, "/v1/campaigns", campaigns, log);
  return { tierIds, ruleIds, rewardIds, segmentIds, campaignIds };
}
