// The OpenAPI document as SDK generators and linters see it: `redocly lint` with its recommended
// rules must report 0 errors and 0 warnings, apart from the few accepted problems listed (each
// with its reason) in .redocly/lint-ignore.yaml.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openApiDocumentText } from "../support/openapi-document";

const dir = mkdtempSync(join(tmpdir(), "loyalty-openapi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IGNORE_FILE = ".redocly/lint-ignore.yaml";
const MAX_IGNORED = 5;

/** Entries of the ignore file: `<pointer>` lines under a rule, each preceded by a `# reason` comment. */
function ignoredEntries() {
  const lines = readFileSync(IGNORE_FILE, "utf8").split("\n");
  return lines.flatMap((line, i) => (/^\s+- '?#\//.test(line) ? [{ pointer: line.trim(), reason: lines[i - 1]?.trim() ?? "" }] : []));
}

describe("OpenAPI lint (redocly, recommended rules)", () => {
  it("reports 0 errors and 0 warnings", async () => {
    writeFileSync(join(dir, "openapi.json"), await openApiDocumentText());
    copyFileSync(".redocly/redocly.yaml", join(dir, "redocly.yaml"));
    copyFileSync(IGNORE_FILE, join(dir, ".redocly.lint-ignore.yaml"));
    const run = await promisify(execFile)(join(process.cwd(), "node_modules/.bin/redocly"), ["lint", "openapi.json", "--format", "json"], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? "", stderr: err.stderr ?? "" }));
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
    };
    const problems = report.problems
      .filter((p) => p.severity !== "ignore")
      .map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    // Every ignored problem still exists (a stale entry would hide nothing and mislead).
    expect(report.totals.ignored).toBe(ignoredEntries().length);
  });

  it(`ignores at most ${MAX_IGNORED} problems, each with its reason`, () => {
    const entries = ignoredEntries();
    expect(entries.length).toBeLessThanOrEqual(MAX_IGNORED);
    for (const entry of entries) expect(entry.reason, entry.pointer).toMatch(/^# \S.{10,}/);
  });
});
