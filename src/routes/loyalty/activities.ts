import { createRoute, z } from "@hono/zod-openapi";
import { ActivityAttributes } from "../../domain/members/free-form";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, IdempotencyHeaders, jsonBody, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { respondWithLedgerWrite } from "../../services/ledger";
import { LedgerWriteSchema } from "../ledger/schemas";

const ActivityBody = z
  .object({
    kind: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .openapi({ description: "review, survey, signup, birthday, referral, or any custom kind (check_in, app_login, …)" }),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    attributes: ActivityAttributes.optional(),
  })
  .strict()
  .openapi("Activity", { example: { kind: "review", attributes: { productSku: "SHOE-1", rating: 5 } } });

export const route = createRoute({
  method: "post",
  path: "/v1/members/{memberId}/activities",
  tags: ["Points"],
  summary: "Record a non-purchase activity (review, survey, check-in, custom) and earn its points",
  description: "Scopes: storefront, partner, admin. Runs the earning rules whose trigger matches the kind. Idempotent by Idempotency-Key.",
  security: bearerSecurity,
  request: { params: MemberIdParam, headers: IdempotencyHeaders, body: jsonBody(ActivityBody) },
  responses: { 201: jsonResponse(LedgerWriteSchema, "Activity recorded"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["storefront", "partner", "admin"]);
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    return respondWithLedgerWrite(
      c,
      { programId, memberId, idempotencyKey: c.req.valid("header")["idempotency-key"], operation: "activity", body },
      (stub, req) => stub.recordActivity(req, body),
    );
  });
