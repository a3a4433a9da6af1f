/**
 * Bench-only routes: the baselines `npm run bench` measures the real routes against, on the
 * same Worker. Only the bench Worker (scripts/bench/worker.ts) serves them, never the
 * production entry. Plain Hono routes, so they stay out of the OpenAPI document.
 *
 *   GET  /__bench/noop                               the trivial route: no key, no I/O
 *   POST /__bench/members/{memberId}/raw-accruals    the rows of an accrual written as ONE libSQL
 *        batch straight from the Worker: no Durable Object, no reads, no rules (storefront key)
 */
import { z } from "@hono/zod-openapi";
import { ledgerRequests, orders } from "../../schema";
import {
  entry,
  type MemberRow,
  memberDelta,
  newLot,
  outbox,
  type ProgramRow,
  type Statement,
  type WriteScope,
} from "../../src/ledger/state";
import type { App } from "../../src/lib/context";
import { AppError } from "../../src/lib/errors";
import { newId } from "../../src/lib/ids";
import { nowIso } from "../../src/lib/time";
import { admit } from "../../src/middleware/auth";
import type { RouteModule } from "../../src/routes/route";

const RawAccrualBody = z.object({
  orderId: z.string().min(1).max(128),
  amount: z.number().int().positive().max(1_000_000_000_000),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  // The program's earn and lot policy, passed in so the baseline reads nothing.
  basePointsPerUnit: z.number().int().nonnegative().default(1),
  unitMinor: z.number().int().positive().default(100),
  holdDays: z.number().int().nonnegative().default(0),
  expiryDays: z.number().int().positive().nullable().default(365),
});

export const benchRoutes: RouteModule = {
  route: { method: "all", path: "/__bench/*" },
  register: (app: App) => {
    app.get("/__bench/noop", (c) => c.json({ ok: true }));

    app.post("/__bench/members/:memberId/raw-accruals", async (c) => {
      const { programId, scope: actor } = await admit(c, { scopes: ["storefront", "partner", "admin"] });
      const memberId = c.req.param("memberId");
      const idempotencyKey = c.req.header("idempotency-key");
      const parsed = RawAccrualBody.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success || !idempotencyKey) throw new AppError("invalid_request", "Invalid raw accrual");
      const input = parsed.data;
      const db = c.var.ctx.db;
      const scope: WriteScope = { db, programId, memberId, requestKey: idempotencyKey, actor, now: nowIso() };
      const program = { holdDays: input.holdDays, expiryDays: input.expiryDays, expiryPolicy: null, timeZone: "UTC" } as ProgramRow;
      const member = { inactivityExpiresAt: null } as MemberRow;
      const points = Math.floor(input.amount / input.unitMinor) * input.basePointsPerUnit;
      // The same statements the Durable Object commits for a plain accrual (see src/ledger/operations/accrue.ts).
      const e = entry(scope, {
        type: "earn",
        points,
        reason: `Purchase ${input.orderId}`,
        sourceType: "order",
        sourceId: input.orderId,
        metadata: { lines: [{ ruleId: "base", points }], tierMultiplier: 1 },
      });
      const lot = newLot(scope, program, member, { entryId: e.row.id, points, orderId: input.orderId, hold: true });
      const body = { orderId: input.orderId, pointsEarned: points, entries: [e.view] };
      const statements: Statement[] = [
        db.insert(ledgerRequests).values({
          programId,
          origin: "client",
          idempotencyKey,
          memberId,
          operation: "accrue",
          requestHash: "bench",
          status: 201,
          response: body,
          createdAt: scope.now,
        }) as Statement,
        db.insert(orders).values({
          id: newId("ord"),
          programId,
          memberId,
          orderId: input.orderId,
          amount: input.amount,
          currency: input.currency.toUpperCase(),
          pointsEarned: points,
          occurredAt: scope.now,
          createdAt: scope.now,
        }) as Statement,
        e.statement,
        ...lot.statements,
        outbox(scope, "points.earned", {
          points,
          orderId: input.orderId,
          entryId: e.row.id,
          availableAt: lot.availableAt,
          expiresAt: lot.expiresAt,
        }),
        memberDelta(
          scope,
          { balance: points, pending: lot.pending ? points : 0, earned: points, spend: input.amount, orders: 1 },
          { lastPurchaseAt: scope.now, lastActivityAt: scope.now },
        ),
        outbox(scope, "order.accrued", { orderId: input.orderId, amount: input.amount, occurredAt: scope.now, points }),
      ];
      await db.batch(statements as [Statement, ...Statement[]]);
      return c.json(body, 201);
    });
  },
};
