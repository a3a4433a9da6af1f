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
  }
}

/** The real stack for API tests: a fresh libSQL server (Hrana over HTTP) with migrations applied. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-test-"));
  const server = await startLibsqlServer({ dir, name: "test", port: 0 });
  await migrateDatabase(server.url);
  project.provide("libsqlUrl", server.url);
  return async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
