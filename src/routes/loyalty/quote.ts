import { createRoute, z } from "@hono/zod-openapi";
import { authorize } from "../../middleware/auth";
import type { App } from "../../lib/context";
import { AppError } from "../../lib/errors";
import { bearerSecurity, errorResponses, Iso, jsonBody, jsonResponse } from "../../lib/openapi";
import { toUtcIso } from "../../lib/time";
import { computeEarn } from "../../services/earning";
import { findMemberByExternalId, requireMemberRow } from "../../services/members";
import { getProgram } from "../../services/programs";
import { CartItem } from "../ledger/schemas";

const QuoteBody = z
  .object({
    memberId: z.string().min(1).max(64).optional(),
    externalId: z.string().min(1).max(128).optional(),
    amount: z.number().int().nonnegative().max(1_000_000_000_000),
    currency: z.string().regex(/^[A-Za-z]{3}$/),
    items: z.array(CartItem).max(500).optional(),
    channel: z.string().min(1).max(64).optional(),
    storeId: z.string().min(1).max(128).optional(),
    occurredAt: Iso().optional(),
  })
  .strict()
  .openapi("Quote", { example: { memberId: "mem_01...", amount: 12999, currency: "USD", items: [{ sku: "SHOE-1", category: "shoes", quantity: 1, unitPrice: 12999 }], channel: "web" } });

const QuoteResult = z
  .object({
    points: z.number().int(),
    basePoints: z.number().int(),
    tierMultiplier: z.number(),
    lines: z.array(z.object({ ruleId: z.string(), name: z.string(), points: z.number().int(), eligibleAmount: z.number().int() }).passthrough()),
    skipped: z.array(z.object({ ruleId: z.string(), reason: z.string() })),
  })
  .openapi("QuoteResult");

export const route = createRoute({
  method: "post",
  path: "/v1/quote",
  tags: ["Points"],
  summary: "How many points will this cart earn? (no write)",
  description: "Scopes: storefront, partner, admin. Evaluates exactly the rules the accrual will, for a member (by memberId or externalId) or a guest.",
  security: bearerSecurity,
  request: { body: jsonBody(QuoteBody) },
  responses: { 200: jsonResponse(QuoteResult, "The points this cart would earn and why"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "partner", "admin"]);
    const body = c.req.valid("json");
    const ctx = c.var.ctx;
    // The program and the member are read side by side (one round trip on the hot path).
    const memberRow = async () => {
      const memberId = body.memberId ?? (body.externalId ? (await findMemberByExternalId({ ctx, input: { programId, externalId: body.externalId } })).id : null);
      return memberId ? requireMemberRow(ctx, programId, memberId) : null;
    };
    const [program, found] = await Promise.all([getProgram({ ctx, input: { programId } }), memberRow().then((row) => ({ row }), (error: unknown) => ({ error }))]);
    if (body.currency.toUpperCase() !== program.currency) throw new AppError("invalid_request", `Currency ${body.currency} does not match the program currency ${program.currency}`);
    if ("error" in found) throw found.error; // after the currency check, as before
    const member = found.row;
    const { result } = await computeEarn(ctx.db, { program, member, isFirstPurchase: (member?.ordersCount ?? 0) === 0 }, {
      trigger: { type: "purchase" },
      occurredAt: body.occurredAt ? toUtcIso(body.occurredAt) : new Date().toISOString(),
      order: { amount: body.amount, items: body.items, channel: body.channel, storeId: body.storeId },
    });
    return c.json(result, 200);
  });
