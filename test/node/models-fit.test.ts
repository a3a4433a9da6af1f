import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = (args: string[]) => promisify(execFile)("npx", ["tsx", "scripts/models-fit.ts", ...args], { cwd: process.cwd() });
const relative = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

describe("npm run models:fit", () => {
  it("prints the CDNOW estimates as JSON", async () => {
    const { stdout } = await run(["--input", "test/fixtures/cdnow_summary.csv", "--json"]);
    const result = JSON.parse(stdout);
    expect(Object.keys(result.bgnbd).sort()).toEqual(["a", "alpha", "b", "logLikelihood", "r"]);
    expect(Object.keys(result.gammaGamma).sort()).toEqual(["gamma", "logLikelihood", "n", "p", "q"]);
    const bgnbd = { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 };
    for (const [key, value] of Object.entries(bgnbd)) expect(relative(result.bgnbd[key], value)).toBeLessThan(1e-3);
    expect(Math.abs(result.bgnbd.logLikelihood - -9582.43)).toBeLessThan(0.05);
    const gg = { p: 6.2488, q: 3.7446, gamma: 15.4477 };
    for (const [key, value] of Object.entries(gg)) expect(relative(result.gammaGamma[key], value)).toBeLessThan(1e-3);
    expect(Math.abs(result.gammaGamma.logLikelihood - -4055.92)).toBeLessThan(0.05);
    expect(result.gammaGamma.n).toBe(946);
    expect(result.rows).toBe(2357);
    expect(result.fitMs).toBeLessThan(2000);
  });

  it("prints a readable table without --json", async () => {
    const { stdout } = await run(["--input", "test/fixtures/cdnow_summary.csv", "--unit", "weeks"]);
    expect(stdout).toMatch(/alpha \(weeks\)\s+4\.413/);
    expect(stdout).toMatch(/log-likelihood\s+-4055\.92/);
  });

  it("exits with usage on missing input", async () => {
    await expect(run([])).rejects.toMatchObject({ code: 2 });
  });
});
