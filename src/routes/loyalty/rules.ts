import { z } from "@hono/zod-openapi";
import { ruleDefinitionSchema } from "../../domain/rules/schema";
import { createRule, deleteRule, getRule, listRules, updateRule } from "../../services/rules/rules";
import { adminCrudRoutes } from "../crud";

const RuleView = z.object({ id: z.string(), name: z.string(), pointsAwarded: z.number().int() }).passthrough().openapi("EarningRule");

export const ruleRoutes = adminCrudRoutes({
  tag: "Earning rules",
  path: "/v1/rules",
  noun: "earning rule",
  idParam: "ruleId",
  operationIds: { list: "rules.list", get: "rules.get", create: "rules.create", update: "rules.update", remove: "rules.delete" },
  createSchema: ruleDefinitionSchema,
  viewSchema: RuleView,
  example: {
    name: "Double points on shoes at weekends",
    trigger: { type: "purchase" },
    conditions: { categories: { include: ["shoes"] }, daysOfWeek: [0, 6] },
    effect: { type: "multiplier", factor: 2 },
    priority: 10,
    stackable: true,
    capPerMember: 5000,
  },
  list: (ctx, programId) => listRules({ ctx, input: { programId } }),
  get: (ctx, { programId, id }) => getRule({ ctx, input: { programId, ruleId: id } }),
  create: (ctx, programId, definition) => createRule({ ctx, input: { programId, definition } }),
  update: (ctx, { programId, id, patch }) => updateRule({ ctx, input: { programId, ruleId: id, patch } }),
  remove: (ctx, { programId, id }) => deleteRule({ ctx, input: { programId, ruleId: id } }),
});
