import type { Context } from "hono";
import type { MemberLedger, WriteRequest } from "../../durable/member-ledger";
import type { Env } from "../../env";
import { type LedgerResult, unwrap } from "../../ledger/result";
import type { AppBindings } from "../../lib/context";
import { canonicalJson, sha256Hex } from "../../lib/crypto";

export function memberLedger(env: Env, programId: string, memberId: string): DurableObjectStub<MemberLedger> {
  return env.MEMBER_LEDGER.get(env.MEMBER_LEDGER.idFromName(`${programId}:${memberId}`));
}

export async function writeRequest(input: {
  programId: string;
  memberId: string;
  idempotencyKey: string;
  operation: string;
  body: unknown;
}): Promise<WriteRequest> {
  return {
    programId: input.programId,
    memberId: input.memberId,
    idempotencyKey: input.idempotencyKey,
    requestHash: await sha256Hex(`${input.operation}:${input.memberId}:${canonicalJson(input.body)}`),
  };
}

/**
 * Run one idempotent ledger write in the member's Durable Object and answer with its
 * result; a replay answers with the original status and body and `Idempotent-Replayed: true`.
 */
export async function respondWithLedgerWrite(
  c: Context<AppBindings>,
  input: { programId: string; memberId: string; idempotencyKey: string; operation: string; body: unknown },
  call: (stub: DurableObjectStub<MemberLedger>, req: WriteRequest) => Promise<LedgerResult>,
) {
  const req = await writeRequest(input);
  const result = unwrap(await call(memberLedger(c.env, input.programId, input.memberId), req));
  c.header("idempotent-replayed", String(result.replayed));
  // Typed as never: the route's declared response schema documents the body.
  return c.json(result.body as never, result.status) as never;
}
