import { errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { QueuedWriteSchema } from "../../services/ledger/queued-writes";
import { clientWriteRequest, respondWithLedgerWrite } from "../../services/ledger/write";
import { defineRoute } from "../route";
import { AccrualBody, LedgerWriteSchema } from "./schemas";

export const accruePointsRoute = defineRoute(
  {
    operationId: "members.accruals.create",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "post",
    path: "/v1/members/{memberId}/accruals",
    tags: ["Points"],
    summary: "Accrue points for a purchase",
    description:
      "Evaluates the program's earning rules and tier multiplier, records the order and earns a lot (pending for the program's hold days). Idempotent by Idempotency-Key; the same key with a different body is 409 idempotency_conflict; an orderId already accrued under another key is 409 duplicate_order. " +
      "When the database is out of reach or slower than the write budget, the accrual is stored in the member's Durable Object and answered 202 with the stored write " +
      "(`Location`: GET /v1/members/{memberId}/queued-writes/{writeId}); it is applied in order as soon as the database answers, priced as of when it was accepted. " +
      "The same key answers the same 202 while it waits and the accrual's own 201 once applied.",
    request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(AccrualBody) },
    responses: {
      201: jsonResponse(LedgerWriteSchema, "Points accrued (or the original result on replay)"),
      202: jsonResponse(QueuedWriteSchema, "Accepted while the database is out of reach; applied later, in order"),
      ...errorResponses(404, 409, 503),
    },
  },
  async (c, principal) => {
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      clientWriteRequest({ principal, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "accrue", body }),
      (stub, req) => stub.accrue(req, body),
    );
  },
);
