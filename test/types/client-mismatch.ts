// Requests and responses that do not match the OpenAPI document do not compile with the typed
// client. `npm run typecheck` checks each directive below is needed; test/node/client-types.test.ts
// compiles this file without them and expects an error on each line that follows one (so each
// checked statement stays on one line).
import { createLoyaltyClient } from "../../src/client";

const loyalty = createLoyaltyClient({ baseUrl: "https://loyalty.example.com", apiKey: "le_store_x" });

export async function mismatches() {
  // @ts-expect-error amount is integer minor units, not a string
  await loyalty.points.accrue("mem_1", { orderId: "o-1", amount: "12.99", currency: "USD" });
  // @ts-expect-error a redemption needs its reason
  await loyalty.points.redeem("mem_1", { points: 10 }, { idempotencyKey: "k" });
  // @ts-expect-error a member has no field the document does not list
  console.log((await loyalty.members.get("mem_1")).pointsBalance);
  // @ts-expect-error the available balance is a number
  const available: string = (await loyalty.members.balance("mem_1")).available;
  // @ts-expect-error no such path in the document
  await loyalty.api.GET("/v1/memberz/{memberId}", { params: { path: { memberId: "mem_1" } } });
  const withoutKey = { params: { path: { memberId: "mem_1" } }, body: { points: 1, reason: "x" } };
  // @ts-expect-error the Idempotency-Key header is required on a redemption
  await loyalty.api.POST("/v1/members/{memberId}/redemptions", withoutKey);
  return available;
}
