import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ImportBalancesBody, ImportResultSchema, importBalances } from "../../services/admin/ledger-import";
import { defineRoute } from "../route";

export const importBalancesRoute = defineRoute(
  {
    operationId: "imports.balances.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/imports/balances",
    tags: ["Imports"],
    summary: "Import opening balances (migration), many members per request",
    description:
      "Each member's opening balance is one write in that member's ledger (its Durable Object, in turn with live checkouts): one `earn` entry with reason and source type `migration` and one lot per old lot, with its original earn, availability and expiry instants (an already expired lot is refused), so the balance is the sum of the ledger afterwards; lifetime earned/redeemed, the tier held until `tierSecuredUntil`, the referral code and the old system's id (`attributes.legacyId`) are set in the same batch. A member's part is all or nothing, and once per member: sent again it answers `replayed` and writes nothing; with other figures it is rejected (`idempotency_conflict`). Members must exist (import them first) and belong to this program. Each request is audited (`import.balances`, with its counts). Answers 200 with one result per member, in request order. `npm run import -- --kind balances` sends files through this route.",
    request: {
      body: jsonBody(ImportBalancesBody, {
        members: [
          {
            externalId: "cust-1001",
            legacyId: "OLD-77",
            lots: [{ points: 1200, earnedAt: "2025-03-01T10:00:00Z", expiresAt: "2027-03-31T23:59:59Z" }],
            lifetimeEarned: 5400,
            lifetimeRedeemed: 4200,
            tier: "Gold",
            tierSecuredUntil: "2027-01-01T00:00:00Z",
            referralCode: "ANNA2025",
          },
        ],
      }),
    },
    responses: { 200: jsonResponse(ImportResultSchema, "One result per member"), ...errorResponses(413) },
  },
  async (c, principal) => c.json({ results: await importBalances(c.var.ctx, principal, c.req.valid("json").members) }, 200),
);
