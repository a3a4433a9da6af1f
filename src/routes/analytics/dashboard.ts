import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { dashboardOverview } from "../../services/admin/dashboard";
import { defineRoute } from "../route";

const Count = z.number().int().nonnegative();
const Money = z.number().int().openapi({ description: "Integer minor units of the program currency" });

const DashboardSchema = z
  .object({
    program: z.object({ id: z.string(), name: z.string(), currency: z.string(), pointCostPer1000: z.number().int() }),
    generatedAt: z.string(),
    members: z.object({ total: Count, active: Count, blocked: Count, erased: Count, newLast30d: Count, purchasers: Count }),
    tiers: z.array(z.object({ tierId: z.string().nullable(), name: z.string(), rank: z.number().int().nullable(), members: Count })),
    stages: z.array(z.object({ stage: z.string(), members: Count })),
    valueSegments: z.array(z.object({ segment: z.string(), members: Count })),
    churnRisk: z.object({
      buckets: z
        .array(z.object({ from: z.number(), to: z.number(), members: Count }))
        .openapi({ description: "Ten buckets of churn probability: [0, 0.1), …, [0.9, 1]" }),
      scored: Count,
      mean: z.number().nullable(),
    }),
    clv: z.object({
      mean: Money.nullable(),
      top: z.array(
        z.object({
          id: z.string(),
          externalId: z.string(),
          name: z.string().nullable(),
          tierId: z.string().nullable(),
          tier: z.string().nullable(),
          clv12m: Money.nullable(),
          churnProbability: z.number().nullable(),
          expectedPurchases90d: z.number().nullable(),
          lifetimeSpend: Money,
          ordersCount: Count,
        }),
      ),
    }),
    segments: z.array(z.object({ id: z.string(), name: z.string(), members: Count, computedAt: z.string().nullable() })),
    points: z
      .object({ earned: z.number().int(), redeemed: z.number().int() })
      .openapi({ description: "Lifetime points earned and redeemed by the program's members" }),
    liability: z.object({
      pointsOutstanding: z.number().int(),
      pointsPending: z.number().int(),
      pointsAvailable: z.number().int(),
      pointsDebt: z.number().int().openapi({ description: "Points members owe after clawbacks; the money figure is net of it" }),
      moneyMinor: Money,
      currency: z.string(),
    }),
    kpiSnapshots: z.array(z.object({ day: z.string(), figures: z.record(z.string(), z.unknown()) })),
    campaigns: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        status: z.string(),
        trigger: z.string(),
        budgetMinor: Money.nullable(),
        spentMinor: Money,
      }),
    ),
    experiments: z.array(
      z.object({
        id: z.string(),
        campaignId: z.string(),
        status: z.string(),
        winner: z.string().nullable(),
        startedAt: z.string(),
        stoppedAt: z.string().nullable(),
      }),
    ),
  })
  .openapi("DashboardOverview", {
    example: {
      program: { id: "prg_01jd…", name: "Demo", currency: "USD", pointCostPer1000: 10000 },
      generatedAt: "2026-11-25T10:00:00.000Z",
      members: { total: 1200, active: 1180, blocked: 12, erased: 8, newLast30d: 96, purchasers: 1010 },
      tiers: [
        { tierId: "tier_bronze", name: "Bronze", rank: 1, members: 900 },
        { tierId: "tier_gold", name: "Gold", rank: 2, members: 180 },
        { tierId: null, name: "No tier", rank: null, members: 112 },
      ],
      stages: [
        { stage: "new", members: 96 },
        { stage: "active", members: 610 },
        { stage: "dormant", members: 250 },
        { stage: "at_risk", members: 140 },
        { stage: "churned", members: 96 },
      ],
      valueSegments: [{ segment: "high_value", members: 120 }],
      churnRisk: { buckets: [{ from: 0, to: 0.1, members: 300 }], scored: 1010, mean: 0.31 },
      clv: {
        mean: 8450,
        top: [
          {
            id: "mem_01jd…",
            externalId: "cust-1001",
            name: "Ana",
            tierId: "tier_gold",
            tier: "Gold",
            clv12m: 152000,
            churnProbability: 0.04,
            expectedPurchases90d: 2.7,
            lifetimeSpend: 480000,
            ordersCount: 31,
          },
        ],
      },
      segments: [{ id: "seg_01jd…", name: "Lapsed VIPs", members: 42, computedAt: "2026-11-25T03:00:00.000Z" }],
      points: { earned: 2400000, redeemed: 1150000 },
      liability: {
        pointsOutstanding: 1250000,
        pointsPending: 40000,
        pointsAvailable: 1210000,
        pointsDebt: 0,
        moneyMinor: 12500000,
        currency: "USD",
      },
      kpiSnapshots: [{ day: "2026-11-24", figures: { members: 1190, activeMembers: 610 } }],
      campaigns: [{ id: "cmp_01jd…", name: "Win-back", status: "active", trigger: "win_back", budgetMinor: 500000, spentMinor: 123400 }],
      experiments: [
        {
          id: "exp_01jd…",
          campaignId: "cmp_01jd…",
          status: "running",
          winner: null,
          startedAt: "2026-11-01T00:00:00.000Z",
          stoppedAt: null,
        },
      ],
    },
  });

export const getDashboardOverviewRoute = defineRoute(
  {
    operationId: "analytics.dashboard.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/dashboard",
    tags: ["Analytics"],
    summary: "Dashboard overview: tiers, lifecycle stages, churn risk, top CLV, segments, points liability",
    description:
      "One aggregated read for the admin dashboard (`/admin`): distributions over the program's members as the crons last scored them, the points liability in money, the last `days` of KPI snapshots, and the latest campaigns and experiments (their results and ROI come from their own endpoints).",
    request: {
      query: z.object({
        days: z.coerce.number().int().min(1).max(730).default(90).openapi({ description: "KPI snapshot window in days", example: 90 }),
      }),
    },
    responses: { 200: jsonResponse(DashboardSchema, "The overview"), ...errorResponses() },
  },
  async (c, { programId }) => {
    const { days } = c.req.valid("query");
    return c.json(await dashboardOverview({ ctx: c.var.ctx, input: { programId, days } }), 200);
  },
);
