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

/** The bundle `wrangler deploy --dry-run` builds for `entry` (default: wrangler.toml's main). */
async function bundle(entry?: string) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-bundle-"));
  dirs.push(dir);
  await promisify(execFile)("npx", ["wrangler", "deploy", "--dry-run", "--outdir", dir, ...(entry ? [entry] : [])], {
    cwd: process.cwd(),
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(process.cwd(), ".config") },
  });
  return readFileSync(join(dir, entry ? "worker.js" : "index.js"), "utf8");
}

// Paths and names only the seams use.
const SEAM_MARKERS = ["/__bench", "raw-accruals", "/__test/receiver", "receiver.test", "TEST_RECEIVER", "BENCH_ROUTES"];

describe("the production bundle", () => {
  it("has none of the test or bench seams", async () => {
    const code = await bundle();
    expect(code).toContain("/v1/members/{memberId}/accruals");
    expect(SEAM_MARKERS.filter((marker) => code.includes(marker))).toEqual([]);
  });

  it("while the bench Worker, built the same way, has the bench routes", async () => {
    const code = await bundle("scripts/bench/worker.ts");
    expect(code).toContain("/__bench/noop");
    expect(code).toContain("raw-accruals");
    expect(code).toContain("/v1/members/{memberId}/accruals");
  });
});
