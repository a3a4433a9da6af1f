import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled, schedule } from "../../src/cron/schedule";
import { recordedDataPoints } from "../support/telemetry";
import { accrue, callDirect, db, newMember, newProgram, testEnv, uniqueKey } from "./helpers";

/** The structured lines console.log received while a test ran. */
let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  const log = console.log.bind(console);
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "string" && args[0].startsWith("{")) {
      try {
        lines.push(JSON.parse(args[0]));
      } catch {
        // not one of ours
      }
    }
    log(...args);
  });
});
afterEach(() => vi.restoreAllMocks());

const pointsOf = (kind: string) => recordedDataPoints.filter((p) => p.indexes?.[0] === kind);

describe("one structured log line and one data point per request", () => {
  it("an accrual: its request line (route pattern, status, program, key id, no secret or body) and its ledger-write point", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const requestId = uniqueKey("req");
    const before = recordedDataPoints.length;
    const res = await callDirect("POST", `/v1/members/${m.id}/accruals`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("acc"),
      headers: { "x-request-id": requestId },
      body: { orderId: uniqueKey("order"), amount: 1234, currency: "USD" },
    });
    expect(res.status).toBe(201);

    const mine = lines.filter((l) => l.requestId === requestId);
    expect(mine).toHaveLength(1);
    const [line] = mine;
    expect(line).toMatchObject({
      kind: "request",
      level: "info",
      method: "POST",
      route: "/v1/members/:memberId/accruals",
      status: 201,
      programId: p.programId,
      errorCode: null,
    });
    expect(typeof line.durationMs).toBe("number");
    expect(String(line.keyId)).toMatch(/^key_/);
    const text = JSON.stringify(line);
    for (const secret of [p.keys.storefront, m.id, m.externalId]) expect(text).not.toContain(secret);

    const fresh = recordedDataPoints.slice(before);
    const requestPoints = fresh.filter((d) => d.indexes?.[0] === "request" && d.blobs?.includes(requestId));
    expect(requestPoints).toHaveLength(1);
    expect(requestPoints[0].blobs?.slice(0, 4)).toEqual(["/v1/members/:memberId/accruals", "POST", p.programId, line.keyId]);
    expect(requestPoints[0].doubles?.[1]).toBe(201);
    const writes = fresh.filter((d) => d.indexes?.[0] === "ledger_write" && d.blobs?.[2] === p.programId);
    expect(writes).toHaveLength(1);
    expect(writes[0].blobs?.slice(0, 2)).toEqual(["accrue", "committed"]);
    // attempts 1, conflict retries 0, group-commit size 1
    expect(writes[0].doubles?.slice(1)).toEqual([1, 0, 1]);
  });

  it("a refused request logs its status and error code, without the presented key", async () => {
    const requestId = uniqueKey("req");
    const res = await callDirect("GET", "/v1/rewards", { key: "le_admin_not-a-real-key", headers: { "x-request-id": requestId } });
    expect(res.status).toBe(401);
    const mine = lines.filter((l) => l.requestId === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      kind: "request",
      level: "warn",
      route: "/v1/rewards",
      status: 401,
      errorCode: "unauthorized",
      keyId: null,
    });
    expect(JSON.stringify(mine[0])).not.toContain("not-a-real-key");
  });

  it("an unknown path is logged as unmatched, not by its raw path", async () => {
    const requestId = uniqueKey("req");
    await callDirect("GET", "/v1/nothing-here/jane@example.com", { headers: { "x-request-id": requestId } });
    const mine = lines.filter((l) => l.requestId === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ route: "(unmatched)", status: 404 });
    expect(JSON.stringify(mine[0])).not.toContain("example.com");
  });

  it("a replayed write is measured as replayed", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    const key = uniqueKey("acc");
    const body = { orderId: uniqueKey("order"), amount: 500, currency: "USD" };
    await callDirect("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: key, body });
    const before = recordedDataPoints.length;
    const again = await callDirect("POST", `/v1/members/${m.id}/accruals`, { key: p.keys.storefront, idempotencyKey: key, body });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const writes = recordedDataPoints.slice(before).filter((d) => d.indexes?.[0] === "ledger_write" && d.blobs?.[2] === p.programId);
    expect(writes.map((w) => w.blobs?.[1])).toEqual(["replayed"]);
  });
});

describe("one structured log line and one data point per job", () => {
  it("a cron run: each job of the expression logs once, writes its point and records its last run", async () => {
    const cron = "*/5 * * * *";
    const jobNames = schedule[cron].map((j) => j.name);
    const before = recordedDataPoints.length;
    const startedAt = new Date().toISOString();
    await runScheduled(cron, testEnv, new Date());

    const jobLines = lines.filter((l) => l.kind === "job" && l.trigger === cron);
    expect(jobLines.map((l) => l.job)).toEqual(jobNames);
    for (const line of jobLines) {
      expect(line).toMatchObject({ outcome: "ok", level: "info", programId: null, shard: null });
      expect(typeof line.rows).toBe("number");
      expect(typeof line.durationMs).toBe("number");
    }
    const jobPoints = recordedDataPoints.slice(before).filter((d) => d.indexes?.[0] === "job" && d.blobs?.[2] === cron);
    expect(jobPoints.map((d) => d.blobs?.[0])).toEqual(jobNames);
    expect(jobPoints.every((d) => d.blobs?.[1] === "ok" && d.doubles?.length === 2)).toBe(true);

    const runs = await db().$client.execute({
      sql: `SELECT job, outcome, started_at FROM job_runs WHERE job IN (${jobNames.map(() => "?").join(",")})`,
      args: jobNames,
    });
    expect(runs.rows.map((r) => r.job).sort()).toEqual([...jobNames].sort());
    for (const r of runs.rows) {
      expect(r.outcome).toBe("ok");
      expect(String(r.started_at) >= startedAt).toBe(true);
    }
  });

  it("a job that fails logs an error line and its outcome, and the rest of the expression still runs", async () => {
    const broken = { ...testEnv, CRON_BATCH_SIZE: "500", LIBSQL_URL: "http://127.0.0.1:9" };
    const cron = "*/5 * * * *";
    await runScheduled(cron, broken, new Date());
    const jobLines = lines.filter((l) => l.kind === "job" && l.trigger === cron);
    expect(jobLines.map((l) => [l.job, l.outcome, l.level])).toEqual(schedule[cron].map((j) => [j.name, "error", "error"]));
  });

  it("accrual data points keep flowing alongside jobs (sanity: the recorder sees the Durable Object)", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    await accrue(p, m.id, 100);
    expect(pointsOf("ledger_write").some((d) => d.blobs?.[2] === p.programId)).toBe(true);
  });
});
