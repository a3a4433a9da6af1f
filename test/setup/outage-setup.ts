import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
// @ts-expect-error plain ESM script without type declarations
import { startLibsqlServer } from "../../scripts/libsql-server.mjs";
import { migrateDatabase } from "../../scripts/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    /** POST <url>/stop kills the outage project's libSQL server, POST <url>/start starts it again (same port and file). */
    outageControlUrl: string;
  }
}

type Server = { url: string; port: number; close: () => Promise<void> };

/**
 * The outage tests' own libSQL server, so killing it does not touch the other API tests, and a
 * control endpoint the tests (running in workerd) call to kill and restart it.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-outage-"));
  const authToken = randomBytes(32).toString("base64url");
  let server: Server | null = await startLibsqlServer({ dir, name: "outage", port: 0, authToken });
  const { port, url } = server as Server;
  await migrateDatabase(url, authToken);

  const control = createServer((req, res) => {
    const act = async () => {
      if (req.method === "POST" && req.url === "/stop") {
        await server?.close();
        server = null;
      } else if (req.method === "POST" && req.url === "/start") {
        server ??= await startLibsqlServer({ dir, name: "outage", port, authToken });
      } else throw new Error(`No control route ${req.method} ${req.url}`);
    };
    act().then(
      () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ running: server !== null })),
      (err) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));

  project.provide("libsqlUrl", url);
  project.provide("libsqlAuthToken", authToken);
  project.provide("outageControlUrl", `http://127.0.0.1:${(control.address() as AddressInfo).port}`);
  return async () => {
    await new Promise((resolve) => control.close(resolve));
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
