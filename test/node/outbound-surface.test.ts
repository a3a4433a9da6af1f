import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe("outbound surface", () => {
  it("the Worker sends requests only through src/lib/outbound-fetch.ts (URL policy, no redirects, timeout)", () => {
    // The SDK (src/client) runs in the customer's app and calls the API it is given: not the Worker's outbound surface.
    const worker = sources(join(root, "src")).filter((f) => !relative(root, f).startsWith("src/client/"));
    // The database client's deadline (src/db/client.ts) re-sends the request @libsql/client built for
    // the deployment's own LIBSQL_URL, with an abort signal: the operator's database, never a customer's URL.
    const allowed = new Set(["src/lib/outbound-fetch.ts", "src/db/client.ts"]);
    const offenders = worker
      .filter((f) => !allowed.has(relative(root, f)))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `${relative(root, f)}:${i + 1}`, line: line.trim() }))
          // A global fetch( or a raw socket; `.fetch(` on a Durable Object stub or service binding is not outbound.
          .filter(({ line }) => !line.startsWith("*") && !line.startsWith("//"))
          .filter(({ line }) => /(?<![.\w])fetch\s*\(/.test(line) || /cloudflare:sockets/.test(line)),
      );
    expect(offenders).toEqual([]);
  });
});
