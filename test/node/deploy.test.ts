// `npm run deploy` refuses before touching anything when production would point at no database or a
// local one (scripts/deploy.ts); these runs need no network.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

async function deploy(env: Record<string, string | undefined>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LIBSQL_") && !k.startsWith("SECRETS_")));
  try {
    const { stdout, stderr } = await promisify(execFile)("npx", ["tsx", "scripts/deploy.ts", "--dry-run"], {
      cwd: process.cwd(),
      env: { ...clean, ...env, WRANGLER_SEND_METRICS: "false" },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe("npm run deploy", () => {
  it("fails loudly without LIBSQL_URL", async () => {
    const res = await deploy({});
    expect(res.code).toBe(1);
    expect(res.output).toContain("LIBSQL_URL is not set");
  });

  it("refuses a local database, in any spelling", async () => {
    for (const url of [
      "http://127.0.0.1:8080",
      "http://localhost:8080",
      "libsql://127.0.0.1",
      "http://[::1]:8080",
      "http://0.0.0.0:8080",
    ]) {
      const res = await deploy({ LIBSQL_URL: url, LIBSQL_AUTH_TOKEN: "t" });
      expect(res.code, url).toBe(1);
      expect(res.output, url).toContain("never points at a local database");
    }
  });

  it("needs the token the migrations run with", async () => {
    const res = await deploy({ LIBSQL_URL: "libsql://loyalty-prod.turso.io" });
    expect(res.code).toBe(1);
    expect(res.output).toContain("LIBSQL_AUTH_TOKEN is not set");
  });
});
