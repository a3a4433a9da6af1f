import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { members, programs } from "../../../schema";
import { batchRead, fetchTogether } from "../../db/batch-read";
import type { Database } from "../../db/client";
import { tierDiscount } from "../../domain/tiers/schema";
import { AppError, notFound } from "../../lib/errors";
import { errorResponses, Iso, jsonBody, jsonResponse } from "../../lib/openapi";
import { toUtcIso } from "../../lib/time";
import { assertMemberVisible } from "../../services/partner/scoping";
import { type EarningMemberRef, earningInputsRead, evaluateEarn } from "../../services/rules/earning";
import { CartItem } from "../ledger/schemas";
import { defineRoute } from "../route";

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
    redemption: z
      .object({
        points: z.number().int().positive().max(1_000_000_000),
        discount: z.number().int().nonnegative().max(1_000_000_000_000),
      })
      .strict()
      .optional()
      .openapi({
        description:
          "A redemption planned at this checkout: `points` to redeem for a `discount` (minor units) off the cart. The cart earns on what is paid after the discount (items scaled in proportion), as the accrual of the final amount will.",
      }),
  })
  .strict()
  .refine((b) => !b.redemption || b.redemption.discount <= b.amount, {
    message: "redemption.discount cannot exceed amount",
    path: ["redemption", "discount"],
  })
  .openapi("Quote", {
    example: {
      memberId: "mem_01...",
      amount: 12999,
      currency: "USD",
      items: [{ sku: "SHOE-1", category: "shoes", quantity: 1, unitPrice: 12999 }],
      channel: "web",
    },
  });

const DiscountLine = z
  .object({
    type: z.literal("tier"),
    tierId: z.string(),
    tierName: z.string(),
    tierVersion: z.number().int().nullable().openapi({ description: "The tier definition's version the discount comes from" }),
    discountPct: z.number(),
    amount: z.number().int().openapi({ description: "Minor units off the cart: floor(amount × discountPct / 100)" }),
  })
  .openapi("QuoteDiscountLine");

const QuoteResult = z
  .object({
    points: z.number().int(),
    discounts: z.array(DiscountLine).openapi({
      description:
        "Discounts the member's tier grants on this cart (`discountPct` of `amount`). They apply first; a planned points `redemption` then comes off what is left, and the cart earns on what remains to pay (`amountDue`).",
    }),
    amountDue: z.number().int().openapi({
      description: "What the shopper pays: amount − tier discounts − the redemption's discount. The accrual of this amount earns `points`.",
    }),
    basePoints: z.number().int(),
    tierMultiplier: z.number(),
    lines: z.array(
      z.object({ ruleId: z.string(), name: z.string(), points: z.number().int(), eligibleAmount: z.number().int() }).passthrough(),
    ),
    skipped: z.array(z.object({ ruleId: z.string(), reason: z.string() })),
    redemption: z
      .object({
        points: z.number().int(),
        discount: z.number().int(),
        amountAfterDiscount: z.number().int(),
        available: z.number().int().nullable().openapi({ description: "The member's available points now (null for a guest)" }),
        affordable: z.boolean().nullable().openapi({ description: "Whether the member can redeem `points` now (null for a guest)" }),
        availableAfter: z
          .number()
          .int()
          .nullable()
          .openapi({ description: "Available points after the redemption, before this cart's points (often held)" }),
      })
      .optional(),
  })
  .openapi("QuoteResult");

/** The cart after a redemption's discount: the amount, and items scaled in proportion (rounded down). */
function discounted<T extends { unitPrice: number }>(amount: number, items: T[] | undefined, discount: number) {
  if (discount === 0 || amount === 0) return { amount, items };
  const paid = amount - discount;
  return { amount: paid, items: items?.map((i) => ({ ...i, unitPrice: Math.floor((i.unitPrice * paid) / amount) })) };
}

/** The quoted member's row by id or external id, scoped to the program (no queries for a guest). */
function memberRead(db: Database, programId: string, ref: EarningMemberRef) {
  if (!ref) return batchRead([], () => undefined);
  const key = "id" in ref ? eq(members.id, ref.id) : eq(members.externalId, ref.externalId);
  return batchRead(
    [
      db
        .select()
        .from(members)
        .where(and(eq(members.programId, programId), key))
        .limit(1),
    ],
    ([rows]) => rows[0],
  );
}

export const quotePurchaseRoute = defineRoute(
  {
    operationId: "quote.create",
    principals: { scopes: ["storefront", "partner", "admin"], member: "read" },
    method: "post",
    path: "/v1/quote",
    tags: ["Points"],
    summary: "How many points will this cart earn? (no write)",
    description:
      "Evaluates exactly the rules the accrual will, for a member (by memberId or externalId) or a guest. With a planned `redemption`, the cart earns on the amount after its discount, and the answer says whether the member can afford it.",
    request: { body: jsonBody(QuoteBody) },
    responses: { 200: jsonResponse(QuoteResult, "The points this cart would earn and why"), ...errorResponses(404) },
  },
  async (c, principal) => {
    const { programId, member: tokenMember } = principal;
    const body = c.req.valid("json");
    const db = c.var.ctx.db;
    // A member token quotes for its own member only: another one is a member that does not exist.
    if (tokenMember && ((body.memberId && body.memberId !== tokenMember.memberId) || body.externalId)) throw notFound("Member");
    const memberId = tokenMember ? tokenMember.memberId : body.memberId;
    // One round trip: program, member and every input of the rules engine in one batch.
    const memberRef = memberId ? { id: memberId } : body.externalId ? { externalId: body.externalId } : null;
    const reads = {
      program: batchRead([db.select().from(programs).where(eq(programs.id, programId)).limit(1)], ([rows]) => rows[0]),
      member: memberRead(db, programId, memberRef),
      inputs: earningInputsRead(db, programId, memberRef),
    };
    const raw = await fetchTogether(db, [reads.program, reads.member, reads.inputs]);
    const [program, member] = [reads.program.parse(raw[0]), reads.member.parse(raw[1])];
    if (!program) throw notFound("Program");
    if (body.currency.toUpperCase() !== program.currency)
      throw new AppError("invalid_request", `Currency ${body.currency} does not match the program currency ${program.currency}`);
    if (memberRef && !member) throw notFound("Member"); // after the currency check, as before
    // A quote shows the member's tier and points: a partner key limited to its members quotes only those.
    if (member) await assertMemberVisible(c.var.ctx, principal, member.id);
    const subject = { program, member: member ?? null, isFirstPurchase: (member?.ordersCount ?? 0) === 0 };
    const inputs = reads.inputs.parse(raw[2]); // parsed after the checks, as the rules were read after them before
    // The member's tier discount first (a guest has none), then the points redemption on what is left.
    const tier = member ? (inputs.ladder.find((t) => t.id === member.tierId) ?? inputs.ladder[0]) : undefined;
    const tierOff = tierDiscount(tier?.benefits, body.amount);
    const discounts =
      tier && tierOff > 0
        ? [
            {
              type: "tier" as const,
              tierId: tier.id,
              tierName: tier.name,
              tierVersion: tier.version ?? null,
              discountPct: tier.benefits.discountPct ?? 0,
              amount: tierOff,
            },
          ]
        : [];
    const redemptionOff = body.redemption?.discount ?? 0;
    if (redemptionOff > body.amount - tierOff)
      throw new AppError("invalid_request", "redemption.discount cannot exceed the amount left after the tier discount", {
        fields: [{ path: "redemption.discount", message: `at most ${body.amount - tierOff}` }],
      });
    const cart = discounted(body.amount, body.items, tierOff + redemptionOff);
    const earned = evaluateEarn(
      subject,
      {
        trigger: { type: "purchase" },
        occurredAt: body.occurredAt ? toUtcIso(body.occurredAt) : new Date().toISOString(),
        order: { amount: cart.amount, items: cart.items, channel: body.channel, storeId: body.storeId },
      },
      inputs,
    );
    const result = { ...earned, discounts, amountDue: cart.amount };
    if (!body.redemption) return c.json(result, 200);
    const available = member ? member.pointsBalance - member.pointsPending : null;
    return c.json(
      {
        ...result,
        redemption: {
          points: body.redemption.points,
          discount: body.redemption.discount,
          amountAfterDiscount: cart.amount,
          available,
          affordable: available === null ? null : available >= body.redemption.points && member?.status === "active",
          availableAfter: available === null ? null : available - body.redemption.points,
        },
      },
      200,
    );
  },
);
