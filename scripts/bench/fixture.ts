/** A bench program on the running stack: keys, members, and optionally earning rules and tiers. */
import { database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";
import { LADDER } from "./cron";
import { api } from "./load";
import type { Stack } from "./stack";

export type BenchProgram = {
  programId: string;
  keys: { admin: string; storefront: string; partner: string };
  members: string[];
};

let unique = 0;
export const uniqueId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${(++unique).toString(36)}`;

export async function benchProgram(stack: Stack, opts: { members: number; name?: string; holdDays?: number }): Promise<BenchProgram> {
  const env = stack.dbEnv;
  const created = await createProgram({
    ctx: { env: env as never, db: database(env), requestId: "bench" },
    input: { name: opts.name ?? "Bench", holdDays: opts.holdDays ?? 0, expiryDays: 365, basePointsPerUnit: 1 },
  });
  const members: string[] = [];
  // Registered through the API, a few at a time.
  for (let i = 0; i < opts.members; i += 16) {
    const batch = Array.from({ length: Math.min(16, opts.members - i) }, () =>
      api<{ id: string }>(stack.apiUrl, "POST", "/v1/members", {
        key: created.keys.storefront,
        body: { externalId: uniqueId("cust"), email: `m${i}@example.com` },
      }),
    );
    members.push(...(await Promise.all(batch)).map((m) => m.id));
  }
  return { programId: created.programId, keys: created.keys, members };
}

/** 50 purchase rules of every effect and condition kind, most of which match the bench cart. */
function fiftyRules() {
  const categories = ["shoes", "apparel", "beauty", "home", "toys"];
  return Array.from({ length: 50 }, (_, i) => {
    const kind = i % 5;
    const conditions =
      kind === 0
        ? { categories: { include: [categories[i % categories.length]] } }
        : kind === 1
          ? { minAmount: 1_000 * (i % 7), channels: ["web", "app"] }
          : kind === 2
            ? { skus: { include: [`SKU-${i % 20}`, `SKU-${(i + 3) % 20}`] } }
            : kind === 3
              ? { daysOfWeek: [0, 1, 2, 3, 4, 5, 6], stores: ["store-1", "store-2"] }
              : { categories: { exclude: ["gift-cards"] }, maxAmount: 10_000_000 };
    const effect =
      i % 3 === 0
        ? { type: "per_currency_unit", points: 1 + (i % 3), perMinorUnits: 100 }
        : i % 3 === 1
          ? { type: "fixed", points: 10 + i }
          : { type: "multiplier", factor: 1 + (i % 4) * 0.5 };
    return {
      name: `Bench rule ${i}`,
      trigger: { type: "purchase" },
      conditions,
      effect,
      priority: i % 10,
      stackable: i % 17 !== 0,
      ...(i % 4 === 0 ? { budgetPoints: 1_000_000_000 } : {}),
    };
  });
}

/** A 20-item cart across the categories and SKUs the rules look at. */
export function twentyItemCart(memberId: string) {
  const categories = ["shoes", "apparel", "beauty", "home", "toys", "gift-cards"];
  const items = Array.from({ length: 20 }, (_, i) => ({
    sku: `SKU-${i}`,
    category: categories[i % categories.length],
    quantity: 1 + (i % 3),
    unitPrice: 500 + i * 125,
  }));
  const amount = items.reduce((s, it) => s + it.quantity * it.unitPrice, 0);
  return { memberId, amount, currency: "USD", items, channel: "web", storeId: "store-1" };
}

export async function addRulesAndTiers(stack: Stack, program: BenchProgram) {
  for (const rule of fiftyRules()) await api(stack.apiUrl, "POST", "/v1/rules", { key: program.keys.admin, body: rule });
  for (const tier of LADDER) await api(stack.apiUrl, "POST", "/v1/tiers", { key: program.keys.admin, body: tier });
}
