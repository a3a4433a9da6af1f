import type { Context } from "hono";
import type { MemberLedger, WriteRequest } from "../../durable/member-ledger";
import type { Env } from "../../env";
import { type LedgerResult, unwrap } from "../../ledger/result";
import type { WriteActor } from "../../ledger/state";
import type { SystemKey } from "../../ledger/system-keys";
import type { AppBindings, Principal } from "../../lib/context";
import { canonicalJson, sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import type { MemberView } from "../members/view";
import { type WriteSource, writeSourceOf } from "../partner/scoping";

export function memberLedger(env: Env, programId: string, memberId: string): DurableObjectStub<MemberLedger> {
  return env.MEMBER_LEDGER.get(env.MEMBER_LEDGER.idFromName(`${programId}:${memberId}`));
}

/**
 * The member's lookup view from their Durable Object (see MemberLedger.view), with what waits to
 * be applied; 503 when the database is out of reach and the object has never read the member.
 */
export async function memberLookup(env: Env, programId: string, memberId: string, maxAgeSeconds: number) {
  const answer = await memberLedger(env, programId, memberId).view(programId, memberId, maxAgeSeconds);
  if (answer.unavailable)
    throw new AppError("service_unavailable", "The database cannot be reached and this member is not known here; retry later");
  // The RPC stub types the view's open `attributes` record as never: it is the MemberView the object returned.
  return { view: answer.view as MemberView | null, ageSeconds: answer.ageSeconds, pendingSync: answer.pendingSync };
}

type RequestInput = { programId: string; memberId: string; operation: string; body: unknown };

const requestHash = (input: RequestInput) => sha256Hex(`${input.operation}:${input.memberId}:${canonicalJson(input.body)}`);

/** A write a client asked for, idempotent by the client's own Idempotency-Key (the client namespace). */
export async function clientWriteRequest(
  input: Omit<RequestInput, "programId"> & {
    principal: Pick<Principal, "programId" | "scope"> & Partial<Pick<Principal, "keyId" | "partner">>;
    idempotencyKey: string;
  },
): Promise<WriteRequest> {
  const { principal, ...rest } = input;
  return {
    programId: principal.programId,
    memberId: rest.memberId,
    origin: "client",
    idempotencyKey: rest.idempotencyKey,
    actor: principal.scope,
    source: writeSourceOf(principal),
    requestHash: await requestHash({ ...rest, programId: principal.programId }),
  };
}

/**
 * A write the system makes, idempotent by a key from systemKeys (the system namespace). `actor`
 * is whose facts the write carries when a client supplied them (a partner event); else the system.
 */
export async function systemWriteRequest(
  input: RequestInput & { idempotencyKey: SystemKey; actor?: WriteActor; source?: WriteSource },
): Promise<WriteRequest> {
  return {
    ...(input.source ? { source: input.source } : {}),
    programId: input.programId,
    memberId: input.memberId,
    origin: "system",
    idempotencyKey: input.idempotencyKey,
    actor: input.actor ?? "system",
    requestHash: await requestHash(input),
  };
}

/**
 * Run one idempotent ledger write in the member's Durable Object and answer with its
 * result; a replay answers with the original status and body and `Idempotent-Replayed: true`.
 */
export async function respondWithLedgerWrite(
  c: Context<AppBindings>,
  request: WriteRequest | Promise<WriteRequest>,
  call: (stub: DurableObjectStub<MemberLedger>, req: WriteRequest) => Promise<LedgerResult>,
) {
  const req = await request;
  const result = unwrap(await call(memberLedger(c.env, req.programId, req.memberId), req));
  c.header("idempotent-replayed", String(result.replayed));
  // Stored while the database is out of reach: where its final result will be.
  if (result.status === 202) c.header("location", queuedWritePath(req.memberId, (result.body as { id: string }).id));
  // Typed as never: the route's declared response schema documents the body.
  return c.json(result.body as never, result.status) as never;
}

const queuedWritePath = (memberId: string, writeId: string) =>
  `/v1/members/${encodeURIComponent(memberId)}/queued-writes/${encodeURIComponent(writeId)}`;
