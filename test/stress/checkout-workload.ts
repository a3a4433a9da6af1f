// Concurrent checkout holds on ONE member: reserves captured (racing a void of the same reserve),
// voided, left to expire by the member's Durable Object alarm, and captured redemptions reversed
// in part, with retries under the same keys. Shared by test/api/checkout-holds.test.ts (in workerd)
// and test/stress/checkout-holds.test.ts (against a local stack).
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";

type Answer = { status: number; body: any };
export type Send = (method: "GET" | "POST", path: string, idempotencyKey: string | null, body?: unknown) => Promise<Answer>;

/** Runs `chains` concurrent chains on `memberId` (who holds at least 10 × chains points); returns the points kept. */
export async function checkoutChains(send: Send, memberId: string, chains: number, uniqueKey: (label: string) => string) {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const reserve = async (points: number, holdSeconds: number, capture = false) => {
    const key = uniqueKey("hold");
    const body = { points, reason: "checkout", capture, holdSeconds };
    const [first, retry] = await Promise.all([
      send("POST", `/v1/members/${memberId}/redemptions`, key, body),
      send("POST", `/v1/members/${memberId}/redemptions`, key, body),
    ]);
    expect(first.status === 201, `reserve ${first.status} ${JSON.stringify(first.body)}`);
    // The same key twice at once: one redemption, both answers the same (or the loser told to retry).
    if (retry.status === 201)
      expect(retry.body?.redemption?.id === first.body?.redemption?.id, "a retried reserve made a second redemption");
    else expect(retry.status === 409 && retry.body?.error?.code === "conflict", `retry ${retry.status} ${JSON.stringify(retry.body)}`);
    return first.body?.redemption?.id as string;
  };
  const kept = await Promise.all(
    Array.from({ length: chains }, async (_, i): Promise<number> => {
      switch (i % 4) {
        case 0: {
          // Capture 5 of 7 while a void of the same reserve races it: exactly one wins.
          const id = await reserve(7, 600);
          const [capture, voided] = await Promise.all([
            send("POST", `/v1/redemptions/${id}/capture`, uniqueKey("cap"), { points: 5 }),
            send("POST", `/v1/redemptions/${id}/void`, uniqueKey("void"), undefined),
          ]);
          const wins = [capture, voided].filter((a) => a.status === 200).length;
          expect(wins === 1, `capture ${capture.status} / void ${voided.status}: ${wins} won`);
          for (const a of [capture, voided])
            if (a.status !== 200) expect(a.status === 409, `loser answered ${a.status} ${JSON.stringify(a.body)}`);
          return capture.status === 200 ? 5 : 0;
        }
        case 1: {
          const id = await reserve(6, 600);
          const v = await send("POST", `/v1/redemptions/${id}/void`, uniqueKey("void"), undefined);
          expect(v.status === 200, `void ${v.status} ${JSON.stringify(v.body)}`);
          return 0;
        }
        case 2:
          // Left alone: the member's object expires it after a second.
          await reserve(4, 1);
          return 0;
        default: {
          const id = await reserve(8, 600, true);
          const r = await send("POST", `/v1/redemptions/${id}/reverse`, uniqueKey("rev"), { points: 3 });
          expect(r.status === 200, `reverse ${r.status} ${JSON.stringify(r.body)}`);
          const over = await send("POST", `/v1/redemptions/${id}/reverse`, uniqueKey("rev"), { points: 6 });
          expect(over.status === 409, `over-reverse ${over.status}`);
          return 5;
        }
      }
    }),
  );
  return { kept: kept.reduce((s, k) => s + k, 0), problems };
}

/** Waits until none of the member's reserves is still held (the alarms ran); false if some remain. */
export async function reservesSettled(db: Database, memberId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await db.all<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM redemptions WHERE member_id = ${memberId} AND status = 'reserved'`,
    );
    if (Number(row.n) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
