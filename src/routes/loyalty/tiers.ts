import { z } from "@hono/zod-openapi";
import { tierDefinitionSchema } from "../../domain/tiers/schema";
import { createTier, deleteTier, getTier, listTiers, updateTier } from "../../services/tiers/tiers";
import { adminCrudRoutes } from "../crud";

const TierView = z.object({ id: z.string(), name: z.string(), rank: z.number().int() }).passthrough().openapi("Tier");

export const tierRoutes = adminCrudRoutes({
  tag: "Tiers",
  path: "/v1/tiers",
  noun: "tier",
  idParam: "tierId",
  operationIds: { list: "tiers.list", get: "tiers.get", create: "tiers.create", update: "tiers.update", remove: "tiers.delete" },
  publicRead: true,
  createSchema: tierDefinitionSchema,
  viewSchema: TierView,
  example: {
    name: "Gold",
    rank: 2,
    qualification: { windowDays: 365, mode: "any", minSpend: 100000, minOrders: 12 },
    benefits: { discountPct: 10, pointsMultiplier: 1.5, freeShipping: true, birthdayGift: "Gift card 20.00" },
    graceDays: 30,
  },
  list: (ctx, programId) => listTiers({ ctx, input: { programId } }),
  get: (ctx, { programId, id }) => getTier({ ctx, input: { programId, tierId: id } }),
  create: (ctx, programId, definition) => createTier({ ctx, input: { programId, definition } }),
  update: (ctx, { programId, id, patch }) => updateTier({ ctx, input: { programId, tierId: id, patch } }),
  remove: (ctx, { programId, id }) => deleteTier({ ctx, input: { programId, tierId: id } }),
});
