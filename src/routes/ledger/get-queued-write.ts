import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, MemberIdParam } from "../../lib/openapi";
import { getQueuedWrite, QueuedWriteSchema } from "../../services/ledger/queued-writes";
import { defineRoute } from "../route";

export const getQueuedWriteRoute = defineRoute(
  {
    operationId: "members.queuedWrites.get",
    principals: { scopes: ["storefront", "partner", "admin"] },
    method: "get",
    path: "/v1/members/{memberId}/queued-writes/{writeId}",
    tags: ["Points"],
    summary: "An accrual or redemption accepted (202) while the database was out of reach: pending, applied or failed",
    description:
      "The `Location` of a 202 answer. Once applied, `result` holds the status and body the write answered (the same a retry with its Idempotency-Key gets); once failed, `error`. Kept 7 days after it was applied. A partner key sees its partner's writes, a storefront key those no partner sent, an admin key all of the program's; any other id is 404.",
    request: {
      params: MemberIdParam.extend({
        writeId: z
          .string()
          .min(1)
          .max(64)
          .openapi({ param: { name: "writeId", in: "path" }, example: "qw_01jd..." }),
      }),
    },
    responses: { 200: jsonResponse(QueuedWriteSchema, "The stored write"), ...errorResponses(404) },
  },
  async (c, principal) => c.json(await getQueuedWrite({ ctx: c.var.ctx, principal, input: c.req.valid("param") }), 200),
);
