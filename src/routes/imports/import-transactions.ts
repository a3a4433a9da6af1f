import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ImportResultSchema, ImportTransactionsBody, importTransactions } from "../../services/admin/ledger-import";
import { defineRoute } from "../route";

export const importTransactionsRoute = defineRoute(
  {
    operationId: "imports.transactions.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/imports/transactions",
    tags: ["Imports"],
    summary: "Import past purchases (migration), many members per request",
    description:
      "Each member's orders are one write in that member's ledger (its Durable Object). `award` is required: `rules` earns through the program's earning rules as live purchases do, per-member caps and budgets counted order by order (a lot held and expiring from when the order happened); `none` records history only (orders, spend and order counts, no points). Orders already recorded are skipped, and a member's part sent again answers `replayed`, so a re-sent or re-batched import writes nothing new. Members named by `externalId` that do not exist yet are registered; a `memberId` must be this program's. No events, no tier moves (the nightly requalification counts the history). Each request is audited (`import.transactions`, with its counts). Answers 200 with one result per member, in request order. `npm run import -- --kind transactions` sends files through this route.",
    request: {
      body: jsonBody(ImportTransactionsBody, {
        award: "rules",
        members: [
          {
            externalId: "cust-1001",
            orders: [{ orderId: "legacy-9001", amount: 4599, currency: "USD", occurredAt: "2025-11-02T15:04:05Z" }],
          },
        ],
      }),
    },
    responses: { 200: jsonResponse(ImportResultSchema, "One result per member"), ...errorResponses(413) },
  },
  async (c, principal) => c.json({ results: await importTransactions(c.var.ctx, principal, c.req.valid("json")) }, 200),
);
