// The production Worker as `wrangler deploy` would upload it carries none of the test and bench
// seams: those live in their own entries (test/support/worker.ts, scripts/bench/worker.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(process.cwd(), ".config") };

/** The bundle `wrangler deploy --dry-run` builds for `entry` (default: wrangler.toml's main), and what wrangler printed. */
async function build(entry?: string, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-bundle-"));
  dirs.push(dir);
  const { stdout, stderr } = await promisify(execFile)(
    "npx",
    ["wrangler", "deploy", "--dry-run", "--outdir", dir, ...args, ...(entry ? [entry] : [])],
    { cwd: process.cwd(), env: wranglerEnv },
  );
  return { code: readFileSync(join(dir, entry ? "worker.js" : "index.js"), "utf8"), output: `${stdout}\n${stderr}` };
}
const bundle = async (entry?: string) => (await build(entry)).code;

// Workers' limit on a Worker's compressed size on the paid plan (which wrangler.toml's cpu_ms needs);
// https://developers.cloudflare.com/workers/platform/limits/#worker-size
const WORKER_SIZE_LIMIT_KIB = 10 * 1024;

// Paths and names only the seams use.
const SEAM_MARKERS = ["/__bench", "raw-accruals", "/__test/receiver", "receiver.test", "TEST_RECEIVER", "BENCH_ROUTES"];

describe("the production bundle", () => {
  it("has none of the test or bench seams", async () => {
    const code = await bundle();
    expect(code).toContain("/v1/members/{memberId}/accruals");
    expect(SEAM_MARKERS.filter((marker) => code.includes(marker))).toEqual([]);
  });

  it("as deployed to production: no seam, within Workers' size limit, and no local database", async () => {
    const { code, output } = await build(undefined, ["--env", "production", "--var", "LIBSQL_URL:libsql://loyalty-prod.turso.io"]);
    expect(code).toContain("/v1/members/{memberId}/accruals");
    expect(SEAM_MARKERS.filter((marker) => code.includes(marker))).toEqual([]);
    const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
    expect(size, output).not.toBeNull();
    expect(Number(size![2])).toBeLessThan(WORKER_SIZE_LIMIT_KIB);
    // Its bindings as wrangler lists them: everything the Worker needs, and the database only as passed.
    for (const binding of ["MEMBER_LEDGER", "RATE_LIMITER", "WEBHOOK_QUEUE", "METRICS"]) expect(output).toContain(`env.${binding}`);
    expect(output).toContain("env.LIBSQL_URL");
    expect(output).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(output).not.toMatch(/WARNING/);
  });

  it("production names no database of its own: without LIBSQL_URL it has none", async () => {
    const { output } = await build(undefined, ["--env", "production"]);
    expect(output).not.toContain("LIBSQL_URL");
  });

  it("while the bench Worker, built the same way, has the bench routes", async () => {
    const code = await bundle("scripts/bench/worker.ts");
    expect(code).toContain("/__bench/noop");
    expect(code).toContain("raw-accruals");
    expect(code).toContain("/v1/members/{memberId}/accruals");
  });
});
