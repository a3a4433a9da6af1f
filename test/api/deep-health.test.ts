import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { recordJobRuns } from "../../src/cron/job-runs";
import { runScheduled, schedule } from "../../src/cron/schedule";
import type { Env } from "../../src/env";
import { FANNED_OUT_JOB_NAMES } from "../../src/jobs/definitions";
import worker from "../support/worker";
import { accrue, call, db, newMember, newProgram, testEnv } from "./helpers";

const operatorToken = () => testEnv.OPERATOR_TOKEN as string;
const deep = (key?: string, headers?: Record<string, string>) => call("GET", "/v1/health/deep", { key, headers });

describe("GET /v1/health/deep (operator)", () => {
  it("reports database latency, migration level, backlogs and the last run of every job", async () => {
    const p = await newProgram();
    const m = await newMember(p);
    await accrue(p, m.id, 1000);
    await runScheduled("*/5 * * * *", testEnv, new Date());

    const res = await deep(operatorToken());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const h = res.body;
    expect(h.database).toMatchObject({ reachable: true });
    expect(h.database.latencyMs).toBeGreaterThanOrEqual(0);

    const applied = await db().$client.execute("SELECT COUNT(*) AS n FROM __drizzle_migrations");
    expect(h.migrations).toMatchObject({ applied: Number(applied.rows[0].n), upToDate: true });
    expect(h.migrations.expectedTag).toMatch(/^\d{4}_/);

    for (const n of [h.backlog.outbox.undispatched, h.backlog.webhookDeliveries.pending, h.backlog.queue.webhookDeliveriesClaimed])
      expect(Number.isInteger(n) && n >= 0).toBe(true);

    const names = Object.values(schedule).flatMap((jobs) => jobs.map((j) => j.name));
    expect(h.jobs.map((j: { job: string }) => j.job)).toEqual([
      ...names,
      "queue:loyalty-webhooks",
      "queue:loyalty-jobs",
      ...FANNED_OUT_JOB_NAMES,
    ]);
    for (const name of schedule["*/5 * * * *"].map((j) => j.name)) {
      const job = h.jobs.find((j: { job: string }) => j.job === name);
      expect(job.lastRun).toMatchObject({ outcome: "ok" });
      expect(job.stale).toBe(false);
      expect(Date.parse(job.lastRun.lastSuccessAt)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(Array.isArray(h.problems)).toBe(true);
  });

  it("a failed job run shows as failing, with its last success kept", async () => {
    const job = "lots.release";
    await runScheduled("*/5 * * * *", testEnv, new Date());
    const before = (await deep(operatorToken())).body.jobs.find((j: { job: string }) => j.job === job);
    // Record a failing run the way runScheduled does (a job that throws).
    await recordJobRuns(testEnv, [
      { job, trigger: "*/5 * * * *", outcome: "error", rows: 0, durationMs: 3, startedAt: new Date().toISOString(), error: "Error: boom" },
    ]);
    const after = (await deep(operatorToken())).body;
    const failed = after.jobs.find((j: { job: string }) => j.job === job);
    expect(failed.lastRun).toMatchObject({ outcome: "error", error: "Error: boom", lastSuccessAt: before.lastRun.lastSuccessAt });
    expect(after.ok).toBe(false);
    expect(after.problems).toContain(`job ${job} failed on its last run`);
    await runScheduled("*/5 * * * *", testEnv, new Date());
    const healed = (await deep(operatorToken())).body.jobs.find((j: { job: string }) => j.job === job);
    expect(healed.lastRun.outcome).toBe("ok");
  });

  it("refuses every tenant key (admin included) with 403, and anything else with 401", async () => {
    const p = await newProgram();
    for (const key of [p.keys.admin, p.keys.storefront, p.keys.partner]) {
      const res = await deep(key);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
      expect(JSON.stringify(res.body)).not.toContain("database");
    }
    for (const [key, headers] of [
      [undefined, undefined],
      [`${operatorToken()}x`, undefined],
      [operatorToken().slice(0, -1), undefined],
      [operatorToken().toUpperCase(), undefined],
      [undefined, { authorization: `Basic ${btoa(`operator:${operatorToken()}`)}` }],
      [undefined, { "x-operator-token": operatorToken() }],
    ] as const) {
      const res = await deep(key, headers);
      expect(res.status, `${key} ${JSON.stringify(headers)}`).toBe(401);
    }
  });

  it("the operator token is no API key: it opens no tenant route", async () => {
    for (const path of ["/v1/rewards", "/v1/keys", "/v1/audit"]) {
      const res = await call("GET", path, { key: operatorToken() });
      expect(res.status).toBe(401);
    }
  });

  const deepWith = (env: Env) =>
    worker.fetch(
      new Request("http://loyalty.test/v1/health/deep", { headers: { authorization: `Bearer ${operatorToken()}` } }),
      env,
      createExecutionContext(),
    );

  it("without OPERATOR_TOKEN configured no one is the operator", async () => {
    const res = await deepWith({ ...testEnv, OPERATOR_TOKEN: undefined });
    expect(res.status).toBe(401);
  });

  it("an unreachable database is a 503 service_unavailable", async () => {
    const res = await deepWith({ ...testEnv, LIBSQL_URL: "http://127.0.0.1:9" });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; details: { database: { reachable: boolean } } } };
    expect(body.error.code).toBe("service_unavailable");
    expect(body.error.details.database.reachable).toBe(false);
  });
});
