import { z } from "@hono/zod-openapi";
import type { Principal, ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { memberLedger } from "./write";

/** What a member's Durable Object holds that the database has not seen yet (README → Outages). */
export const PendingSyncSchema = z
  .object({
    accruals: z.number().int().openapi({ description: "Accruals accepted (202) and not applied yet" }),
    amount: z.number().int().openapi({ description: "Their purchase amounts, minor units: the rules price them when applied" }),
    redemptions: z.number().int().openapi({ description: "Redemptions accepted (202) and not applied yet" }),
    points: z.number().int().openapi({ description: "Points those redemptions take" }),
    oldestAcceptedAt: z.string().nullable(),
  })
  .openapi("PendingSync");

export const QueuedWriteSchema = z
  .object({
    id: z.string().openapi({ example: "qw_01jd..." }),
    memberId: z.string(),
    operation: z.enum(["accrue", "redeem"]),
    status: z.enum(["pending", "applied", "failed"]),
    acceptedAt: z.string(),
    appliedAt: z.string().nullable(),
    result: z
      .object({ status: z.number().int(), body: z.unknown() })
      .nullable()
      .openapi({ description: "Once applied: the status and body the write answered, as a retry with its Idempotency-Key gets them" }),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .openapi({ description: "Once failed (refused when applied, e.g. insufficient_points): the error a retry gets" }),
  })
  .openapi("QueuedWrite");

/** A write the member's object stored while the database was out of reach; 404 for another program's or another source's. */
export async function getQueuedWrite({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Pick<Principal, "programId" | "scope" | "partner">;
  input: { memberId: string; writeId: string };
}) {
  const found = await memberLedger(ctx.env, principal.programId, input.memberId).queuedWrite(principal.programId, input.writeId, {
    scope: principal.scope,
    partner: principal.partner?.id ?? null,
  });
  if (!found) throw notFound("Queued write");
  return found;
}
