import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
// @ts-expect-error plain ESM script without type declarations
import { startLibsqlServer } from "../../scripts/libsql-server.mjs";
import { migrateDatabase } from "../../scripts/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    libsqlUrl: string;
    libsqlAuthToken: string;
  }
}

/** The real stack for API tests: a fresh libSQL server (Hrana over HTTP) with migrations applied. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-test-"));
  const authToken = randomBytes(32).toString("base64url");
  const server = await startLibsqlServer({ dir, name: "test", port: 0, authToken });
  await migrateDatabase(server.url, authToken);
  project.provide("libsqlUrl", server.url);
  project.provide("libsqlAuthToken", authToken);
  return async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
